// Colour maps of the playground: the diverging orange/blue of TensorFlow Playground,
// the Okabe-Ito class palette, and how a frame's grid bytes become RGBA pixels.

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];
const WHITE = [232, 234, 235];

// Okabe-Ito, colour-blind safe: class 0 orange and class 1 blue as above, then the rest.
export const CLASS_COLORS = [
  [230, 159, 0],
  [0, 114, 178],
  [0, 158, 115],
  [204, 121, 167],
  [86, 180, 233],
  [213, 94, 0],
];

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Diverging colour of t in [-1, 1]: orange at -1, light grey at 0, blue at 1. */
export function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  return t < 0 ? mix(WHITE, ORANGE, -t) : mix(WHITE, BLUE, t);
}

/** The CSS colour of an [r, g, b] triple. */
export function css(rgb, alpha = 1) {
  const [r, g, b] = rgb.map((v) => Math.round(v));
  return alpha === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`;
}

/** The colour of a data point: its class, or its value for regression. */
export function pointColor(t, task, valueRange) {
  if (task === "regression") {
    const [lo, hi] = valueRange || [-1, 1];
    return diverging(hi > lo ? ((t - lo) / (hi - lo)) * 2 - 1 : 0);
  }
  if (task === "binary") return t >= 0.5 ? BLUE : ORANGE;
  return CLASS_COLORS[t % CLASS_COLORS.length];
}

// A 256-entry lookup table per (encoding, discretize, classes): byte -> RGB.
const tables = new Map();

function buildTable(encoding, discretize, classes) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let b = 0; b < 256; b++) {
    let rgb;
    if (encoding === "class") {
      const k = Math.max(2, classes);
      const cls = Math.min(b >> 5, CLASS_COLORS.length - 1);
      const p = (b & 31) / 31;
      // The winning probability as saturation: 1/k (a tie) is pale, 1 is the full colour.
      const s = discretize ? 0.75 : Math.max(0, Math.min(1, (p - 1 / k) / (1 - 1 / k)));
      rgb = mix(WHITE, CLASS_COLORS[cls], 0.1 + 0.5 * s);
    } else {
      let t = (b / 255) * 2 - 1; // p1, value and activation all map 0..255 to -1..1
      if (discretize) {
        t = encoding === "value" ? Math.round(t * 4) / 4 : t > 0 ? 0.75 : t < 0 ? -0.75 : 0;
      }
      // The output is drawn light, so the points on it stay visible.
      rgb = diverging(t * (encoding === "p1" || encoding === "value" ? 0.6 : 1));
    }
    lut.set(rgb.map(Math.round), b * 3);
  }
  return lut;
}

/** Lookup table for one encoding of the frame's grid (see docs/playground-protocol.md). */
export function table(encoding, discretize = false, classes = 2) {
  const key = `${encoding}/${discretize ? 1 : 0}/${classes}`;
  if (!tables.has(key)) tables.set(key, buildTable(encoding, discretize, classes));
  return tables.get(key);
}

/** Paint the bytes of a grid (n x n, row 0 at the top) into an ImageData through a table. */
export function paint(imageData, bytes, lut) {
  const px = imageData.data;
  for (let i = 0; i < bytes.length; i++) {
    const j = bytes[i] * 3;
    const o = i * 4;
    px[o] = lut[j];
    px[o + 1] = lut[j + 1];
    px[o + 2] = lut[j + 2];
    px[o + 3] = 255;
  }
  return imageData;
}
