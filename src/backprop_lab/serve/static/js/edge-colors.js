// Edge colouring: what an edge of the network diagram shows (its weight, its gradient or its
// change since the last frame), drawn as colour (blue positive, orange negative) and width.

import { BLUE, ORANGE, css } from "./colors.js";

/** What the edges show: the frame's array, the tooltip's word, the widest edge's magnitude. */
export const EDGE_MODES = {
  weight: { key: "weights", word: "Weight", title: "weight" },
  gradient: { key: "grads", word: "Gradient", title: "gradient ∂L/∂w" },
  change: { key: "changes", word: "Change", title: "change since the last frame" },
};

const WIDEST_WEIGHT = 2.5; // |w| at which a weight's edge is the widest

/**
 * The value of an edge ({i, j, k}: from neuron i of column k - 1 to neuron j of column k).
 * @param {Array<{W: number[], units: number}>|null} arrays split layers (frame.js splitWeights)
 * @returns {number|null} null when unknown.
 */
export function edgeValue(arrays, edge) {
  if (!arrays) return null;
  const layer = arrays[edge.k - 1];
  return layer ? layer.W[edge.i * layer.units + edge.j] : null;
}

/**
 * The magnitude drawn widest: weights on a fixed scale, gradients and changes relative to the
 * largest of this frame (they shrink as training goes).
 * @param {string} key "weights", "grads" or "changes"
 * @param {object} scale the largest |value| of this frame per key (largestKernelValue)
 */
export function edgeTop(key, scale) {
  return key === "weights" ? WIDEST_WEIGHT : scale[key];
}

/** Colour, width and opacity of an SVG line for value `w`, `top` the widest (grey if unknown). */
export function paintEdge(line, w, top) {
  if (w === null || !Number.isFinite(w)) {
    line.setAttribute("stroke", "#bbb");
    line.setAttribute("stroke-width", "0.5");
    line.setAttribute("stroke-opacity", "1");
    return;
  }
  const mag = top > 0 ? (Math.min(Math.abs(w), top) / top) * 2.5 : 0;
  line.setAttribute("stroke", css(w >= 0 ? BLUE : ORANGE));
  line.setAttribute("stroke-width", (0.4 + mag * 2).toFixed(2));
  line.setAttribute("stroke-opacity", (0.35 + Math.min(mag, 1) * 0.6).toFixed(2));
}

/** The largest |value| among the kernels of split layers (0 when none). */
export function largestKernelValue(layers) {
  let top = 0;
  for (const layer of layers || []) {
    for (const v of layer.W) if (Number.isFinite(v) && Math.abs(v) > top) top = Math.abs(v);
  }
  return top;
}

/** A gradient or change: 4 significant digits, exponent form below 0.001 ("1.234e-5"). */
export function formatSmall(v) {
  if (typeof v !== "number") return "–";
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  return Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}
