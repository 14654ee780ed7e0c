// Reads one binary frame of the server (docs/playground-protocol.md): meta, the parameters
// (and, from issue 14 on, their gradients and changes), the grids.

const MAGIC = "BPLF";
const decoder = new TextDecoder();

/** Meta keys that come with the gradient and change arrays (issue 14's frame layout). */
const NEW_LAYOUT_KEYS = ["neurons", "snapshots", "snapshot", "snapshot_epochs"];

/**
 * Whether a frame carries the gradient and change arrays after its parameters.
 * The meta says so (its issue-14 keys); for a meta without them, the size decides: the bytes
 * after the parameters are the grid plus whole thumbnails in exactly one of the two layouts.
 * @param {object} meta
 * @param {number} rest the bytes after the parameters
 * @returns {boolean}
 */
export function hasExtraArrays(meta, rest) {
  if (NEW_LAYOUT_KEYS.some((key) => key in meta)) return true;
  const n = meta.weights | 0;
  const R = meta.grid | 0;
  const r = meta.thumb | 0;
  const fits = (bytes) => bytes >= 0 && (r > 0 ? bytes % (r * r) === 0 : bytes === 0);
  return n > 0 && !fits(rest - R * R) && fits(rest - 8 * n - R * R);
}

/** `n` float32 values at `offset` (copied when the offset is not 4-byte aligned). */
function floats(buffer, offset, n) {
  if (offset + 4 * n > buffer.byteLength) throw new Error("frame parameters run past its end");
  return offset % 4 === 0
    ? new Float32Array(buffer, offset, n)
    : new Float32Array(buffer.slice(offset, offset + 4 * n));
}

/**
 * Parse a frame.
 * @param {ArrayBuffer} buffer
 * @returns {{meta: object, weights: Float32Array, grads: Float32Array | null,
 *   changes: Float32Array | null, grid: Uint8Array, thumbs: Uint8Array[]}}
 *   grads: the gradient of the loss on the last trained batch; changes: each parameter's change
 *   since the previous frame (both null in a frame of the older layout).
 * @throws {Error} on a frame that is not well formed.
 */
export function parseFrame(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 8) throw new Error("frame too short");
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== MAGIC) throw new Error(`frame starts with ${JSON.stringify(magic)}`);
  const metaLength = view.getUint32(4, true);
  if (8 + metaLength > buffer.byteLength) throw new Error("frame meta runs past its end");
  const meta = JSON.parse(decoder.decode(new Uint8Array(buffer, 8, metaLength)));
  let offset = 8 + metaLength;
  const nWeights = meta.weights | 0;
  // Float32Array needs a 4-byte aligned offset: the meta length is a multiple of 4.
  const weights = floats(buffer, offset, nWeights);
  offset += 4 * nWeights;
  let grads = null;
  let changes = null;
  if (hasExtraArrays(meta, buffer.byteLength - offset)) {
    grads = floats(buffer, offset, nWeights);
    offset += 4 * nWeights;
    changes = floats(buffer, offset, nWeights);
    offset += 4 * nWeights;
  }
  const R = meta.grid | 0;
  if (offset + R * R > buffer.byteLength) throw new Error("frame grid runs past its end");
  const grid = new Uint8Array(buffer, offset, R * R);
  offset += R * R;
  const r = meta.thumb | 0;
  const thumbs = [];
  while (r > 0 && offset + r * r <= buffer.byteLength) {
    thumbs.push(new Uint8Array(buffer, offset, r * r));
    offset += r * r;
  }
  return { meta, weights, grads, changes, grid, thumbs };
}

/**
 * The `seq` of a frame that does not parse as a whole, read from its meta alone.
 * @param {ArrayBuffer} buffer
 * @returns {number | null} null when not even the meta can be read.
 */
export function frameSeq(buffer) {
  try {
    const metaLength = new DataView(buffer).getUint32(4, true);
    const meta = JSON.parse(decoder.decode(new Uint8Array(buffer, 8, metaLength)));
    return Number.isInteger(meta.seq) ? meta.seq : null;
  } catch {
    return null;
  }
}

/**
 * Split the flat weights into the Dense layers' kernels and biases.
 * @param {Float32Array} weights
 * @param {number[]} sizes [inputs, hidden units..., output units]
 * @returns {{W: Float32Array, b: Float32Array, fanIn: number, units: number}[]}
 */
export function splitWeights(weights, sizes) {
  const layers = [];
  let o = 0;
  for (let i = 1; i < sizes.length; i++) {
    const fanIn = sizes[i - 1];
    const units = sizes[i];
    if (o + fanIn * units + units > weights.length) return null;
    const W = weights.subarray(o, o + fanIn * units);
    o += fanIn * units;
    const b = weights.subarray(o, o + units);
    o += units;
    layers.push({ W, b, fanIn, units });
  }
  return layers;
}
