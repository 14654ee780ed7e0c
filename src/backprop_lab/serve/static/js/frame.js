// Reads one binary frame of the server (docs/playground-protocol.md): meta, weights, grids.

const MAGIC = "BPLF";
const decoder = new TextDecoder();

/**
 * Parse a frame.
 * @param {ArrayBuffer} buffer
 * @returns {{meta: object, weights: Float32Array, grid: Uint8Array, thumbs: Uint8Array[]}}
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
  const weights = offset % 4 === 0
    ? new Float32Array(buffer, offset, nWeights)
    : new Float32Array(buffer.slice(offset, offset + 4 * nWeights));
  offset += 4 * nWeights;
  const R = meta.grid | 0;
  const grid = new Uint8Array(buffer, offset, R * R);
  offset += R * R;
  const r = meta.thumb | 0;
  const thumbs = [];
  while (r > 0 && offset + r * r <= buffer.byteLength) {
    thumbs.push(new Uint8Array(buffer, offset, r * r));
    offset += r * r;
  }
  return { meta, weights, grid, thumbs };
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
