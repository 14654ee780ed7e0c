// The live chart: train and test loss (left scale) and test accuracy or R² (0..1, right).

const MAX_POINTS = 1500;

export class Chart {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.other = []; // a compared run B's [x, trainLoss, testLoss] (compare.js), drawn dashed
    this.clear();
  }

  clear() {
    this.points = []; // [x, trainLoss, testLoss, score]
    this.draw();
  }

  /** Add a point; a point at or before the last x replaces the tail (after Reset or a step). */
  add(x, trainLoss, testLoss, score) {
    while (this.points.length && this.points[this.points.length - 1][0] >= x) this.points.pop();
    this.points.push([x, trainLoss, testLoss, score]);
    if (this.points.length > MAX_POINTS) {
      // Keep every other point of the older half: the chart stays light.
      const half = this.points.length >> 1;
      this.points = this.points.slice(0, half).filter((_, i) => i % 2 === 0).concat(this.points.slice(half));
    }
    this.draw();
  }

  /** Run B's points (compare.js), drawn dashed over run A's; [] removes them. */
  setOther(points, legend) {
    this.other = points;
    this.canvas.dataset.runs = points.length ? "2" : "1";
    this.canvas.dataset.legend = legend;
    this.canvas.dataset.otherPoints = String(points.length);
    this.draw();
  }

  draw() {
    const { ctx, canvas } = this;
    const W = canvas.width;
    const H = canvas.height;
    const pad = { l: 34, r: 30, t: 8, b: 18 };
    ctx.clearRect(0, 0, W, H);
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillStyle = "#666";
    ctx.strokeStyle = "#ddd";
    ctx.lineWidth = 1;
    ctx.strokeRect(pad.l, pad.t, W - pad.l - pad.r, H - pad.t - pad.b);
    const pts = this.points.filter((p) => Number.isFinite(p[1]));
    const other = (this.other || []).filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0 && other.length === 0) {
      ctx.fillText("Press Play to train", pad.l + 8, pad.t + 16);
      return;
    }
    const all = pts.concat(other);
    const x0 = Math.min(...all.map((p) => p[0]));
    const x1 = Math.max(...all.map((p) => p[0]), x0 + 1);
    let top = 0;
    for (const p of all) top = Math.max(top, p[1], Number.isFinite(p[2]) ? p[2] : 0);
    top = top > 0 ? top * 1.05 : 1;
    const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
    const Y = (v, max) => pad.t + (1 - Math.max(0, Math.min(v, max)) / max) * (H - pad.t - pad.b);
    ctx.textAlign = "right";
    ctx.fillText(top.toPrecision(2), pad.l - 4, pad.t + 8);
    ctx.fillText("0", pad.l - 4, H - pad.b);
    ctx.textAlign = "left";
    ctx.fillText("1", W - pad.r + 4, pad.t + 8);
    ctx.fillText("0", W - pad.r + 4, H - pad.b);
    ctx.textAlign = "center";
    ctx.fillText(`epoch ${x1.toFixed(x1 < 10 ? 1 : 0)}`, W - pad.r - 30, H - 4);
    const line = (index, color, max, dash, width = 1.8, series = pts) => {
      ctx.beginPath();
      let started = false;
      for (const p of series) {
        const v = p[index];
        if (v === null || !Number.isFinite(v)) continue;
        if (started) ctx.lineTo(X(p[0]), Y(v, max));
        else ctx.moveTo(X(p[0]), Y(v, max));
        started = true;
      }
      ctx.setLineDash(dash);
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.stroke();
      ctx.setLineDash([]);
    };
    line(3, "#2a9d5b", 1, [4, 3]);
    // Test loss wide under train loss: both stay visible where they agree.
    line(2, "#f59322", top, [], 3.5);
    line(1, "#0877bd", top, [], 1.6);
    line(2, "#f59322", top, [6, 4], 2.2, other);
    line(1, "#0877bd", top, [6, 4], 1.6, other);
    if (other.length && this.canvas.dataset.legend) {
      ctx.fillStyle = "#333";
      ctx.textAlign = "left";
      ctx.fillText(`${this.canvas.dataset.legend} (A solid, B dashed)`, pad.l + 6, pad.t + 10);
    }
  }
}
