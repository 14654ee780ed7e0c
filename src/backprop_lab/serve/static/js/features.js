// The input features (as the server's serve/features.py has them) and their maps on the grid.
// The list itself comes from the server's `hello` (choices.features); these are their labels.

import { paint, table } from "./colors.js";

export const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];

/** Label as HTML (visible text) and as plain text (accessible name) of each feature. */
export const FEATURE_LABELS = {
  x1: ["X<sub>1</sub>", "x1"],
  x2: ["X<sub>2</sub>", "x2"],
  x1sq: ["X<sub>1</sub><sup>2</sup>", "x1²"],
  x2sq: ["X<sub>2</sub><sup>2</sup>", "x2²"],
  x1x2: ["X<sub>1</sub>X<sub>2</sub>", "x1x2"],
  sinx1: ["sin(X<sub>1</sub>)", "sin x1"],
  sinx2: ["sin(X<sub>2</sub>)", "sin x2"],
};

/** [html, plain] label of a feature; a name the page does not know is shown as it is. */
export function featureLabel(name) {
  return FEATURE_LABELS[name] || [name.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`), name];
}

const FUNCTIONS = {
  x1: (a) => a,
  x2: (a, b) => b,
  x1sq: (a) => a * a,
  x2sq: (a, b) => b * b,
  x1x2: (a, b) => a * b,
  sinx1: (a) => Math.sin(a),
  sinx2: (a, b) => Math.sin(b),
};

/**
 * A feature over an n x n grid of cell centres of `extent` (row 0 at the top, largest x2),
 * as activation bytes: the value divided by its largest magnitude, -1..1 -> 0..255.
 */
export function featureGrid(name, n, extent) {
  const [x0, x1, y0, y1] = extent;
  const f = FUNCTIONS[name] || (() => 0); // a feature the page cannot draw: blank
  const values = new Float32Array(n * n);
  let peak = 1e-12;
  for (let i = 0; i < n; i++) {
    const b = y1 - ((i + 0.5) / n) * (y1 - y0);
    for (let j = 0; j < n; j++) {
      const a = x0 + ((j + 0.5) / n) * (x1 - x0);
      const v = f(a, b);
      values[i * n + j] = v;
      peak = Math.max(peak, Math.abs(v));
    }
  }
  const bytes = new Uint8Array(n * n);
  for (let k = 0; k < bytes.length; k++) bytes[k] = Math.round(255 * (values[k] / peak + 1) / 2);
  return bytes;
}

/** Draw a feature's map into a canvas of n x n pixels. */
export function drawFeature(canvas, name, extent) {
  const n = canvas.width;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, n);
  paint(image, featureGrid(name, n, extent), table("activation"));
  ctx.putImageData(image, 0, 0);
}
