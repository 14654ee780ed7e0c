// The timeline: a scrubber over the server's snapshots (one at epoch 0 of a run, one after every
// finished epoch and at every pause). Moving it asks the server to `seek`; the plot and the
// diagram then show that moment, and Play or Step continue from there.

/** "epoch 3", "epoch 3.25" (epoch + batch / steps, as the server counts snapshots). */
export function epochText(epoch) {
  if (typeof epoch !== "number" || !Number.isFinite(epoch)) return "epoch –";
  const rounded = Math.round(epoch * 100) / 100;
  return `epoch ${Number.isInteger(rounded) ? rounded : rounded.toFixed(2)}`;
}

export class Timeline {
  /**
   * @param {object} parts {root, slider, readout}: the scrubber's region, its range input and its
   *   <output>
   * @param {function(number)} seek asks the server for snapshot k
   */
  constructor(parts, seek) {
    Object.assign(this, parts);
    this.seek = seek;
    this.count = 0;
    this.epochs = [];
    this.shown = null; // the snapshot the last frame showed (null: live)
    this.wanted = null; // a seek on its way: the slider keeps it until its frame comes
    this.queued = false;
    this.slider.addEventListener("input", () => this.request(Number(this.slider.value)));
  }

  /** The user moved the slider: one seek per animation frame at most, the newest index wins. */
  request(index) {
    this.wanted = index;
    this.describe(index, true);
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      if (this.wanted !== null) this.seek(this.wanted);
    });
  }

  /** Follow a frame's meta: the number of snapshots, the one shown, their epochs. */
  update(meta) {
    // Hidden on a server without a timeline, and when the URL's hide= hides it.
    this.root.hidden = !("snapshots" in meta) || this.root.dataset.hiddenBy === "hide";
    if (!("snapshots" in meta)) return;
    this.count = Math.max(0, meta.snapshots | 0);
    this.epochs = Array.isArray(meta.snapshot_epochs) ? meta.snapshot_epochs : [];
    this.shown = Number.isInteger(meta.snapshot) ? meta.snapshot : null;
    this.live = { epoch: meta.epoch + (meta.steps_per_epoch ? meta.batch / meta.steps_per_epoch : 0) };
    if (this.wanted !== null && this.shown === this.wanted) this.wanted = null;
    this.slider.max = String(Math.max(0, this.count - 1));
    this.slider.disabled = this.count < 2;
    if (this.wanted === null) {
      this.slider.value = String(this.shown === null ? Math.max(0, this.count - 1) : this.shown);
      this.describe(this.shown, false);
    }
    this.root.dataset.snapshot = this.shown === null ? "" : String(this.shown);
    this.root.dataset.epochs = JSON.stringify(this.epochs);
  }

  /** The readout and the slider's aria-valuetext for snapshot `index` (null: live). */
  describe(index, moving) {
    let text;
    if (index === null) {
      text = this.count ? `live, ${epochText(this.live.epoch)}` : "no snapshots yet";
    } else {
      const at = epochText(this.epochs[index]);
      text = `${at} (snapshot ${index + 1} of ${this.count})${moving ? "…" : ""}`;
    }
    this.readout.textContent = text;
    this.slider.setAttribute("aria-valuetext", text);
  }

  /** A new run (reset, new network): forget a seek on its way. */
  clear() {
    this.wanted = null;
  }
}
