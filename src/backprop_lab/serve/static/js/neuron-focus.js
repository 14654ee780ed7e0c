// Which hidden neuron the big plot shows: the one under the mouse, else the one with the
// keyboard focus, else none (the output). Marks that node and tells the server on a change.

export class NeuronFocus {
  /** @param {function(number[] | null)} send gets [layer, index] or null (see `focus`). */
  constructor(send) {
    this.send = send;
    this.hovered = null;
    this.keyed = null;
    this.shown = null;
  }

  /** The mouse is on a target ({node, neuron: [layer, index]}), or on none (null). */
  hover(target) {
    this.hovered = target;
    this.update();
  }

  /** The keyboard focus is on a target, or on none (null). */
  key(target) {
    this.keyed = target;
    this.update();
  }

  /** The diagram was rebuilt: its nodes are gone, back to the output. */
  reset() {
    this.hovered = null;
    this.keyed = null;
    this.update();
  }

  update() {
    const next = this.hovered || this.keyed;
    if (next === this.shown) return;
    if (this.shown) this.shown.node.classList.remove("focused");
    this.shown = next;
    if (next) next.node.classList.add("focused");
    this.send(next ? next.neuron : null);
  }
}
