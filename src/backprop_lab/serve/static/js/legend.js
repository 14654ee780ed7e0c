// The legend under the big plot: what the colours and lines mean for the current data.

import { CLASS_COLORS, css, diverging, BLUE, ORANGE } from "./colors.js";

function swatch(color, text, cls = "sw") {
  const item = document.createElement("span");
  item.className = "legend-item";
  const sw = document.createElement("span");
  sw.className = cls;
  if (color) sw.style.background = color;
  item.append(sw, text);
  return item;
}

/** Fill `root` for a `data` message. */
export function drawLegend(root, data) {
  const items = [];
  if (data.task === "regression") {
    const [lo, hi] = data.value_range || [-1, 1];
    const stops = [-1, 0, 1].map((t) => css(diverging(t))).join(",");
    items.push(swatch(`linear-gradient(90deg,${stops})`, `value ${lo.toFixed(2)} … ${hi.toFixed(2)}`, "sw wide"));
  } else if (data.classes > 2) {
    for (let k = 0; k < data.classes; k++) items.push(swatch(css(CLASS_COLORS[k]), `class ${k}`));
    items.push(swatch(null, "boundary", "sw line"));
  } else {
    items.push(swatch(css(ORANGE), "class 0"), swatch(css(BLUE), "class 1"));
    items.push(swatch(null, "0.5 boundary", "sw line"));
  }
  if (data.truth) items.push(swatch(null, "true boundary", "sw dashed"));
  items.push(swatch(null, "test point", "sw ring"));
  root.replaceChildren(...items);
}
