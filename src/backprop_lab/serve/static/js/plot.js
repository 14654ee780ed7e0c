// The big plot: the frame's grid as a heatmap, the data points, the learned and true boundaries.

import { css, paint, pointColor, table } from "./colors.js";
import { isoline, labelEdges, strokeSegments } from "./contour.js";

export class Plot {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.heat = document.createElement("canvas");
    this.points = document.createElement("canvas");
    this.points.width = canvas.width;
    this.points.height = canvas.height;
    this.data = null;
    this.frame = null;
    this.showTest = false;
    this.discretize = false;
    this.frames = 0;
  }

  /** The kind of colouring of the points: "binary", "classes" or "regression". */
  kind() {
    if (!this.data) return "binary";
    if (this.data.task === "regression") return "regression";
    return this.data.classes > 2 ? "classes" : "binary";
  }

  setData(data) {
    this.data = data;
    this.drawPoints();
    this.render();
  }

  setOptions({ showTest, discretize }) {
    if (showTest !== undefined) this.showTest = showTest;
    if (discretize !== undefined) this.discretize = discretize;
    this.drawPoints();
    this.render();
  }

  /** Draw one parsed frame (see frame.js); counts the frames drawn in data-frames. */
  drawFrame(frame) {
    this.frame = frame;
    this.render();
    this.frames += 1;
    this.canvas.dataset.frames = String(this.frames);
    this.canvas.dataset.frameSeq = String(frame.meta.seq);
    this.canvas.dataset.run = String(frame.meta.run);
    this.canvas.dataset.focus = frame.meta.focus ? frame.meta.focus.join(",") : "";
  }

  extent() {
    return (this.frame && this.frame.meta.extent) || (this.data && this.data.extent) || [-1, 1, -1, 1];
  }

  drawPoints() {
    const ctx = this.points.getContext("2d");
    const { width: W, height: H } = this.points;
    ctx.clearRect(0, 0, W, H);
    if (!this.data) return;
    const [x0, x1, y0, y1] = this.data.extent;
    const kind = this.kind();
    const n = this.data.train.length + (this.showTest ? this.data.test.length : 0);
    const radius = n > 6000 ? 1.8 : n > 2000 ? 2.4 : n > 500 ? 3 : 4;
    const dot = (p, test) => {
      const x = ((p[0] - x0) / (x1 - x0)) * W;
      const y = ((y1 - p[1]) / (y1 - y0)) * H;
      const color = css(pointColor(p[2], kind, this.data.value_range));
      ctx.beginPath();
      ctx.arc(x, y, test ? radius + 0.6 : radius, 0, 2 * Math.PI);
      if (test) {
        ctx.fillStyle = "rgba(255,255,255,0.85)";
        ctx.fill();
        ctx.lineWidth = 1.6;
        ctx.strokeStyle = color;
        ctx.stroke();
      } else {
        ctx.fillStyle = color;
        ctx.fill();
        ctx.lineWidth = 0.6;
        ctx.strokeStyle = "rgba(255,255,255,0.9)";
        ctx.stroke();
      }
    };
    for (const p of this.data.train) dot(p, false);
    if (this.showTest) for (const p of this.data.test) dot(p, true);
  }

  render() {
    const { ctx, canvas } = this;
    const W = canvas.width;
    const H = canvas.height;
    ctx.fillStyle = "#e8eaeb";
    ctx.fillRect(0, 0, W, H);
    const frame = this.frame;
    if (frame) {
      const R = frame.meta.grid;
      const encoding = frame.meta.focus ? "activation" : frame.meta.encoding;
      const classes = this.data ? this.data.classes : 2;
      if (this.heat.width !== R) {
        this.heat.width = R;
        this.heat.height = R;
      }
      const hctx = this.heat.getContext("2d");
      const image = hctx.createImageData(R, R);
      paint(image, frame.grid, table(encoding, this.discretize, classes));
      hctx.putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = !this.discretize;
      ctx.drawImage(this.heat, 0, 0, W, H);
      ctx.drawImage(this.points, 0, 0);
      this.drawBoundaries(frame, encoding, W / R);
    } else {
      ctx.drawImage(this.points, 0, 0);
    }
  }

  drawBoundaries(frame, encoding, scale) {
    const { ctx } = this;
    const R = frame.meta.grid;
    const truth = this.data && this.data.truth;
    ctx.save();
    ctx.lineJoin = "round";
    let segments = null;
    if (encoding === "p1" || encoding === "activation") segments = isoline(frame.grid, R, 127.5);
    else if (encoding === "class") {
      const labels = new Uint8Array(R * R);
      for (let i = 0; i < labels.length; i++) labels[i] = frame.grid[i] >> 5;
      segments = labelEdges(labels, R);
    }
    if (segments) {
      ctx.lineWidth = 2.2;
      ctx.strokeStyle = "rgba(20,20,20,0.9)";
      strokeSegments(ctx, segments, scale);
    }
    // The true boundary last, dashed dark on white, so it shows where it meets the learned one.
    if (truth && truth.length === R * R && !frame.meta.focus) {
      if (!this.truthLine || this.truthLine.truth !== truth) {
        const cells = new Uint8Array(R * R);
        for (let i = 0; i < cells.length; i++) cells[i] = truth.charCodeAt(i) - 48;
        this.truthLine = { truth, segments: isoline(cells, R, 0.5) };
      }
      const line = this.truthLine.segments;
      ctx.setLineDash([6, 5]);
      ctx.lineWidth = 3.2;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      strokeSegments(ctx, line, scale);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "rgba(30,30,30,0.9)";
      strokeSegments(ctx, line, scale);
      ctx.setLineDash([]);
    }
    ctx.restore();
  }
}
