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
    // The edited point ({part, index}), the inspected training point (index), the inspected batch (rows).
    this.marks = { selected: null, inspected: null, batch: null };
  }

  /** Data coordinates [x1, x2] of a mouse position (client pixels) over the canvas. */
  toData(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    const [x0, x1, y0, y1] = this.extent();
    return [
      x0 + ((clientX - r.left) / r.width) * (x1 - x0),
      y1 - ((clientY - r.top) / r.height) * (y1 - y0),
    ];
  }

  /** Canvas pixels of a data point. */
  toCanvas(p) {
    const [x0, x1, y0, y1] = this.extent();
    return [((p[0] - x0) / (x1 - x0)) * this.canvas.width, ((y1 - p[1]) / (y1 - y0)) * this.canvas.height];
  }

  /**
   * The point nearest to a mouse position, within `maxPx` CSS pixels.
   * @param {string[]} parts which lists to search ("train", "test")
   * @returns {{part: string, index: number} | null}
   */
  nearest(clientX, clientY, parts, maxPx) {
    if (!this.data) return null;
    const r = this.canvas.getBoundingClientRect();
    const scale = r.width / this.canvas.width;
    let best = null;
    let bestD = maxPx * maxPx;
    for (const part of parts) {
      const list = this.data[part] || [];
      for (let i = 0; i < list.length; i++) {
        const [cx, cy] = this.toCanvas(list[i]);
        const dx = r.left + cx * scale - clientX;
        const dy = r.top + cy * scale - clientY;
        const d = dx * dx + dy * dy;
        if (d <= bestD) {
          bestD = d;
          best = { part, index: i };
        }
      }
    }
    return best;
  }

  /** Mark the point being edited ({part, index} | null), the inspected training point (index | null)
   * or the rows of an inspected batch (list | null). */
  setMarks(marks) {
    Object.assign(this.marks, marks);
    const i = this.marks.inspected;
    this.canvas.dataset.inspected = i === null || i === undefined ? "" : String(i);
    this.render();
  }

  /** Show a point at a new place at once (while it is dragged; the server's data follows). */
  movePoint(part, index, x) {
    const p = this.data && this.data[part] && this.data[part][index];
    if (!p) return;
    p[0] = x[0];
    p[1] = x[1];
    this.drawPoints();
    this.render();
  }

  /** The kind of colouring of the points: "binary", "classes" or "regression". */
  kind() {
    if (!this.data) return "binary";
    if (this.data.task === "regression") return "regression";
    return this.data.classes > 2 ? "classes" : "binary";
  }

  setData(data) {
    this.data = data;
    this.canvas.dataset.extent = (data.extent || []).join(",");
    this.canvas.dataset.train = String(data.train.length);
    this.canvas.dataset.test = String(data.test.length);
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
    this.drawMarks();
  }

  /** A ring around the edited point; a ring and cross hairs on the inspected one. */
  drawMarks() {
    const { ctx } = this;
    const ring = (p, radius, color, width) => {
      const [x, y] = this.toCanvas(p);
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.lineWidth = width + 2;
      ctx.strokeStyle = "rgba(255,255,255,0.95)";
      ctx.stroke();
      ctx.lineWidth = width;
      ctx.strokeStyle = color;
      ctx.stroke();
      return [x, y];
    };
    const { selected, inspected, batch } = this.marks;
    if (this.data && Array.isArray(batch)) {
      for (const i of batch) if (this.data.train[i]) ring(this.data.train[i], 6, "#e0558a", 1.5);
    }
    if (this.data && selected && this.data[selected.part] && this.data[selected.part][selected.index]) {
      ring(this.data[selected.part][selected.index], 8, "#111", 2);
    }
    if (this.data && inspected !== null && inspected !== undefined && this.data.train[inspected]) {
      const [x, y] = ring(this.data.train[inspected], 11, "#e0558a", 2.5);
      ctx.save();
      ctx.strokeStyle = "#e0558a";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (const [a, b, c, d] of [[x - 20, y, x - 13, y], [x + 13, y, x + 20, y], [x, y - 20, x, y - 13], [x, y + 13, x, y + 20]]) {
        ctx.moveTo(a, b);
        ctx.lineTo(c, d);
      }
      ctx.stroke();
      ctx.restore();
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
