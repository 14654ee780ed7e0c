// The loss landscape (issue 14, item 7): on request, the server's `landscape` reply drawn as two
// heat maps, the loss on two planes through the current weights, with the path training took.
// The method is landscape.png's (pictures/loss_surface.py); the page only draws the numbers.

import { css } from "./colors.js";

// viridis at 0, 1/8, ..., 1 (matplotlib's), the colour map of landscape.png.
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
const START = [230, 159, 0]; // the path's start, Okabe-Ito orange as in landscape.png
const GAP = "#d9d9d9"; // a cell whose loss is not finite (null in the reply)
const MARGIN = { left: 46, right: 8, top: 8, bottom: 34 };

/** viridis at t in [0, 1] as [r, g, b]. */
export function viridis(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((v, k) => v + (VIRIDIS[i + 1][k] - v) * f);
}

/** [lo, hi] of the finite positive losses of all planes (one log scale for both), or null. */
export function lossRange(planes) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const plane of planes) {
    for (const row of plane.loss) {
      for (const v of row) {
        if (v === null || !Number.isFinite(v)) continue;
        lo = Math.min(lo, Math.max(v, 1e-12));
        hi = Math.max(hi, v);
      }
    }
  }
  if (lo === Infinity) return null;
  return [lo, Math.max(hi, lo * 1.01)];
}

/** A tick or loss value in at most 3 significant digits (exponent form when far from 1). */
function fmt(v) {
  const far = Math.abs(v) >= 100 || (v !== 0 && Math.abs(v) < 0.01);
  return far ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}
const count = (n) => n.toLocaleString("en-US");

export class LandscapePanel {
  /**
   * @param {object} parts {panel, open (button), close (button), canvases: [canvas, canvas],
   *   titles: [element, element], caption, scale}
   * @param {object} on callbacks: send(message)
   */
  constructor(parts, on) {
    Object.assign(this, parts);
    this.on = on;
    this.waiting = false;
    this.label = this.open.textContent;
    this.open.addEventListener("click", () => this.ask());
    this.close.addEventListener("click", () => this.hide());
  }

  ask() {
    if (this.waiting) return;
    this.setWaiting(true);
    this.on.send({ type: "landscape" });
  }

  setWaiting(waiting) {
    this.waiting = waiting;
    this.open.disabled = waiting;
    this.open.textContent = waiting ? "computing…" : this.label;
    this.open.setAttribute("aria-busy", String(waiting));
  }

  hide() {
    this.panel.hidden = true;
  }

  /** A server error while a landscape is on its way is (most likely) its refusal: shown in the
   *  status line by the page; here the button comes back. */
  error() {
    if (this.waiting) this.setWaiting(false);
  }

  /** The server's `landscape` reply. */
  receive(msg) {
    this.setWaiting(false);
    this.panel.hidden = false;
    const planes = msg.planes || [];
    const span = lossRange(planes);
    planes.forEach((plane, i) => {
      if (!this.canvases[i]) return;
      this.titles[i].textContent = `${plane.title}; loss here ${plane.centre === null ? "not finite" : fmt(plane.centre)}`;
      drawPlane(this.canvases[i], plane, span);
    });
    const epoch = Number(msg.epoch.toFixed(2));
    this.caption.textContent = `At epoch ${epoch}, on ${count(msg.points)} of ${count(msg.of)} training points`
      + ` (computed in ${msg.seconds.toFixed(2)} s).`;
    this.caption.dataset.epoch = String(msg.epoch);
    this.caption.dataset.run = String(msg.run);
    this.scale.textContent = span
      ? `Colour: training loss on a log scale, from ${fmt(span[0])} (dark) to ${fmt(span[1])} (yellow); grey: not finite.`
      : "The loss is not finite anywhere on these planes.";
  }
}

/** One plane: the heat map (rows = betas, bottom up), axes, the path with its start and end. */
export function drawPlane(canvas, plane, span) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  const box = { x: MARGIN.left, y: MARGIN.top, w: W - MARGIN.left - MARGIN.right, h: H - MARGIN.top - MARGIN.bottom };
  ctx.clearRect(0, 0, W, H);
  const { alphas, betas, loss } = plane;
  const nx = alphas.length;
  const ny = betas.length;
  const [lo, hi] = span || [1, 10];
  const logLo = Math.log(lo);
  const logSpan = Math.log(hi) - logLo || 1;
  const cw = box.w / nx;
  const ch = box.h / ny;
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < nx; j++) {
      const v = loss[i][j];
      const finite = span && v !== null && Number.isFinite(v);
      ctx.fillStyle = finite ? css(viridis((Math.log(Math.max(v, lo)) - logLo) / logSpan)) : GAP;
      // +0.5: no hairline seams between cells
      ctx.fillRect(box.x + j * cw, box.y + box.h - (i + 1) * ch, cw + 0.5, ch + 0.5);
    }
  }
  // Cell centres sit at alphas/betas: a value maps linearly from the first to the last centre.
  const px = (a) => box.x + cw / 2 + ((a - alphas[0]) / (alphas[nx - 1] - alphas[0])) * (box.w - cw);
  const py = (b) => box.y + box.h - ch / 2 - ((b - betas[0]) / (betas[ny - 1] - betas[0])) * (box.h - ch);
  drawPath(ctx, plane.path.map(([a, b]) => [px(a), py(b)]));
  // axes: a frame, three ticks each (ends and 0), the labels
  ctx.strokeStyle = "#555";
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.w - 1, box.h - 1);
  ctx.fillStyle = "#333";
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const a of [alphas[0], 0, alphas[nx - 1]]) ctx.fillText(fmt(a), px(a), box.y + box.h + 3);
  ctx.fillText(plane.xlabel, box.x + box.w / 2, box.y + box.h + 17);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const b of [betas[0], 0, betas[ny - 1]]) ctx.fillText(fmt(b), box.x - 3, py(b));
  ctx.save();
  ctx.translate(10, box.y + box.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(plane.ylabel, 0, 0);
  ctx.restore();
  canvas.dataset.drawn = String(Number(canvas.dataset.drawn || 0) + 1);
}

function drawPath(ctx, points) {
  if (!points.length) return;
  ctx.lineJoin = "round";
  for (const [width, colour] of [[3.5, "#000"], [1.6, "#fff"]]) {
    ctx.beginPath();
    points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.lineWidth = width;
    ctx.strokeStyle = colour;
    ctx.stroke();
  }
  const [sx, sy] = points[0];
  ctx.beginPath();
  ctx.arc(sx, sy, 4.5, 0, 2 * Math.PI);
  ctx.fillStyle = css(START);
  ctx.fill();
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 1;
  ctx.stroke();
  const [ex, ey] = points[points.length - 1];
  star(ctx, ex, ey, 7);
}

function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 ? r * 0.45 : r;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
  }
  ctx.closePath();
  ctx.fillStyle = "#fff";
  ctx.fill();
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 1;
  ctx.stroke();
}
