// Neuron flags: a dead or saturated hidden neuron (the frame's meta.neurons) carries a mark,
// and its badge, title and tooltip say why.

/**
 * The one-line explanation of a neuron's flag ("dead", "saturated") for its activation.
 * @param {string} flag
 * @param {string} activation
 * @returns {string} "" for no flag.
 */
export function flagText(flag, activation) {
  if (flag === "dead") {
    return `dead: this ${activation === "leaky_relu" ? "leaky ReLU" : "ReLU"} outputs 0 on every `
      + "training point, so no gradient reaches its weights";
  }
  if (flag === "saturated") {
    return `saturated: this ${activation} sits on its flat ends (f′(z) < 0.01 on at least 90% `
      + "of the training points), so almost no gradient reaches its weights";
  }
  return "";
}

/** The flag of hidden neuron [l, i] in `flags` (a frame's meta.neurons): "", "dead", "saturated". */
export function neuronFlag(flags, [l, i]) {
  return (flags && flags[l] && flags[l][i]) || "";
}

/** The explanation of hidden neuron [l, i]'s flag under the network's `settings` ("" if none). */
export function neuronFlagText(flags, neuron, settings) {
  const layer = settings && settings.layers[neuron[0]];
  return flagText(neuronFlag(flags, neuron), layer ? layer.activation : "relu");
}

/** Show a hidden neuron target's flag: its node's data-flag, its badge and the titles. */
export function markFlag(target, flag, text) {
  const [l, i] = target.neuron;
  target.node.dataset.flag = flag;
  target.badge.hidden = !flag;
  target.badge.textContent = flag === "dead" ? "✕" : flag === "saturated" ? "S" : "";
  target.badge.title = text;
  target.node.title = text
    ? `Layer ${l + 1}, neuron ${i + 1} · ${text}`
    : `Layer ${l + 1}, neuron ${i + 1}: hover or focus it to see it on the big plot`;
}
