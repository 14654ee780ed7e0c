// The incoming weights and bias of one node of the network diagram, as lines of text
// (the tooltip of a node with the keyboard focus: the edges' values without a mouse).

const value = (v) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(4) : "–");

/**
 * The lines "Layer 1, neuron 3", "bias 0.0123", "x1 → 0.4567", ... of a node.
 * @param {{W: Float32Array, b: Float32Array, units: number}[] | null} layerWeights frame.js's
 *   splitWeights: Dense layer k - 1 feeds column k of the diagram
 * @param {number} k the node's column (1: first hidden layer; the last: the output)
 * @param {number} j the node's index in its column
 * @param {string[]} sources the names of the nodes of column k - 1
 * @param {string} name the node's own name
 * @returns {string[]}
 */
export function incomingLines(layerWeights, k, j, sources, name) {
  const layer = layerWeights ? layerWeights[k - 1] : null;
  const lines = [name, `bias ${value(layer ? layer.b[j] : null)}`];
  sources.forEach((source, i) => {
    lines.push(`${source} → ${value(layer ? layer.W[i * layer.units + j] : null)}`);
  });
  return lines;
}
