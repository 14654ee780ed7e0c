// The divergence panel: when training stops because a loss or weight went non-finite or the loss
// exploded, the server sends `diverged`; this says what happened and offers to rewind to the last
// good snapshot with a smaller learning rate (`rewind`).

import { formatLoss } from "./readouts.js";

/** A learning rate as the page writes it: 0.1, 0.001, 1e-5. */
export function formatRate(lr) {
  if (typeof lr !== "number" || !Number.isFinite(lr)) return "–";
  return lr >= 1e-4 ? String(Number(lr.toPrecision(6))) : lr.toExponential();
}

export class DivergencePanel {
  /**
   * @param {object} parts {root, message, details, rewind, dismiss}
   * @param {function(object)} rewind sends `rewind` (gets the `diverged` message it answers)
   */
  constructor(parts, rewind) {
    Object.assign(this, parts);
    this.info = null;
    this.rewind.addEventListener("click", () => {
      const info = this.info;
      if (!info) return;
      this.hide();
      rewind(info);
    });
    this.dismiss.addEventListener("click", () => this.hide());
    this.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.hide();
    });
  }

  /** Show a `diverged` message and move the focus to the Rewind button. */
  show(msg) {
    this.info = msg;
    this.message.textContent = msg.message || "Training diverged.";
    const parts = [];
    // `epoch` counts epochs as a float (epoch + batch / steps): 0.5 is halfway through epoch 1.
    if (typeof msg.epoch === "number") parts.push(`stopped during epoch ${Math.floor(msg.epoch) + 1}`);
    parts.push(`last finite train loss ${formatLoss(msg.last_finite_loss)}`);
    if (msg.layer) parts.push(`largest update relative to its weights: ${msg.layer}`);
    parts.push(`learning rate ${formatRate(msg.lr)}`);
    this.details.textContent = parts.join(" · ");
    this.rewind.textContent = `Rewind and use lr ${formatRate(msg.suggested_lr)}`;
    this.root.dataset.snapshot = String(msg.snapshot ?? "");
    this.root.hidden = false;
    this.rewind.focus();
  }

  hide() {
    if (this.root.hidden) return;
    const hadFocus = this.root.contains(document.activeElement);
    this.root.hidden = true;
    this.info = null;
    if (hadFocus) document.getElementById("play").focus();
  }

  get open() {
    return !this.root.hidden;
  }
}
