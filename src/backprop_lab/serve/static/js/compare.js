// Compare two runs: run B is a second server session (its own WebSocket) with the page's
// settings (same seed and weights: the same data and initial weights) but one setting changed.

import { parseFrame, frameSeq } from "./frame.js";
import { Plot } from "./plot.js";
import { formatLoss } from "./readouts.js";
import { connect } from "./socket.js";

/** The settings run B may change, and how a URL/input value of each reads. */
export const COMPARE_KEYS = {
  optimizer: (text) => text.trim(),
  lr: (text) => (text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : undefined),
  batch_size: (text) => (/^\d+$/.test(text.trim()) ? Number(text) : undefined),
  activation: (text) => text.trim(),
};

/** "lr:0.1" -> {key: "lr", value: 0.1}; null when it names no comparable setting or value. */
export function parseCompare(text) {
  const m = /^([a-z_]+):(.+)$/.exec(text || "");
  if (!m || !(m[1] in COMPARE_KEYS)) return null;
  const value = COMPARE_KEYS[m[1]](m[2]);
  return value === undefined || value === "" ? null : { key: m[1], value };
}

/** The settings of run B: `base` with the one change (activation: of every hidden layer). */
export function changedSettings(base, spec) {
  const settings = { ...base };
  if (spec.key === "activation") {
    settings.layers = (base.layers || []).map((l) => ({ ...l, activation: spec.value }));
  } else settings[spec.key] = spec.value;
  return settings;
}

/** A short name of a run's settings for the chart legend, e.g. "sgd lr 0.01". */
function describe(settings, key) {
  let text = `${settings.optimizer} lr ${settings.lr}`;
  if (key === "batch_size") text += ` batch ${settings.batch_size}`;
  if (key === "activation") text += ` ${(settings.layers || []).map((l) => l.activation).join(",") || "no hidden layer"}`;
  return text;
}

function activationOf(settings) {
  const layers = settings.layers || [];
  return layers.length ? layers[0].activation : "relu";
}

/** A value for run B that differs from run A's, to start from. */
function suggest(key, settings) {
  if (key === "lr") return String(Math.min(10, settings.lr * 10));
  if (key === "batch_size") return String(settings.batch_size === 1 ? 32 : Math.max(1, settings.batch_size >> 2));
  if (key === "optimizer") return settings.optimizer === "adam" ? "sgd" : "adam";
  return activationOf(settings) === "tanh" ? "relu" : "tanh";
}

export class Compare {
  /**
   * @param {object} els panel, open (the Compare button), key, value, choices (a datalist),
   *   start, close, plot (canvas), legend, trainLoss, testLoss, epoch, note
   * @param {{chart: import("./chart.js").Chart, changed: function(string)}} hooks
   *   changed: the compare state for the URL ("lr:0.1", or "" when closed)
   */
  constructor(els, hooks) {
    this.els = els;
    this.hooks = hooks;
    this.plot = new Plot(els.plot);
    this.base = null; // run A's settings
    this.spec = null; // {key, value} while comparing
    this.pendingSpec = null; // from the URL, until run A's settings are known
    this.socket = null;
    this.sent = {}; // the settings last sent to run B
    this.points = [];
    this.run = null;
    this.choices = {};
    els.open.addEventListener("click", () => (els.panel.hidden ? this.show() : this.close()));
    els.close.addEventListener("click", () => this.close());
    els.key.addEventListener("change", () => this.fillSuggestion());
    els.start.addEventListener("click", () => {
      const spec = parseCompare(`${els.key.value}:${els.value.value}`);
      if (!spec) this.note(`Not a value for ${els.key.value}: ${JSON.stringify(els.value.value)}.`);
      else this.start(spec);
    });
  }

  note(text) {
    this.els.note.textContent = text;
  }

  /** The hello's choices (text settings' allowed names) for the value list. */
  setChoices(choices) {
    this.choices = choices || {};
    this.fillSuggestion();
  }

  fillSuggestion() {
    const key = this.els.key.value;
    const list = key === "optimizer" || key === "activation" ? this.choices[key] || [] : [];
    this.els.choices.replaceChildren(...list.map((name) => Object.assign(document.createElement("option"), { value: name })));
    if (this.base) this.els.value.value = suggest(key, this.base);
  }

  /** Open the panel (run B starts with "Start run B"). */
  show() {
    this.els.panel.hidden = false;
    this.els.open.setAttribute("aria-pressed", "true");
    this.fillSuggestion();
  }

  /** Reopen from the URL's `compare` value once run A's settings are known. */
  restore(text) {
    const spec = parseCompare(text);
    if (spec) this.pendingSpec = spec;
    return spec !== null;
  }

  /** Run A's settings (every `state` of the page's own session). */
  setBase(settings) {
    const first = this.base === null;
    this.base = settings;
    if (first && this.pendingSpec) {
      const spec = this.pendingSpec;
      this.pendingSpec = null;
      this.show();
      this.els.key.value = spec.key;
      this.els.value.value = String(spec.value);
      this.start(spec);
    } else if (this.spec) this.sendChanges();
  }

  start(spec) {
    if (!this.base) return;
    if (this.base.dataset === "custom") {
      this.note("Compare needs a named dataset: run B cannot get custom points.");
      return;
    }
    this.stop();
    this.spec = spec;
    this.sent = {};
    this.points = [];
    this.run = null;
    this.plot.frames = 0;
    this.els.panel.dataset.state = "connecting";
    this.note("Starting run B…");
    this.hooks.changed(`${spec.key}:${spec.value}`);
    this.hooks.chart.setOther([], "");
    const socket = connect({
      onMessage: (msg) => this.onMessage(msg, socket),
      onFrame: (buffer) => this.onFrame(buffer, socket),
      onClose: () => {
        if (this.socket === socket) {
          this.note("Run B is disconnected from the server.");
          this.els.panel.dataset.state = "closed";
          this.socket = null;
        }
      },
    });
    this.socket = socket;
  }

  /** Send run B the settings that differ from what it has. */
  sendChanges() {
    if (!this.socket || !this.base || !this.spec) return;
    if (this.base.dataset === "custom") {
      this.note("Run A now trains on custom points, which run B cannot get: run B keeps its data.");
      return;
    }
    const want = changedSettings(this.base, this.spec);
    const changes = {};
    for (const [key, value] of Object.entries(want)) {
      if (JSON.stringify(this.sent[key]) !== JSON.stringify(value)) changes[key] = value;
    }
    if (Object.keys(changes).length === 0) return;
    if (this.socket.send({ type: "settings", settings: changes })) Object.assign(this.sent, changes);
  }

  /** A play, pause, step or reset of run A: run B does the same. */
  follow(message) {
    if (this.socket) this.socket.send(message);
  }

  onMessage(msg, socket) {
    if (socket !== this.socket) return;
    if (msg.type === "hello") {
      this.sent = {};
      this.sendChanges();
    } else if (msg.type === "state") {
      this.sent = { ...msg.settings };
      this.els.panel.dataset.state = "running";
      this.note("");
      this.legend = `A: ${describe(this.base, this.spec.key)} · B: ${describe(msg.settings, this.spec.key)}`;
      this.els.legend.textContent = this.legend;
      this.hooks.chart.setOther(this.points, this.legend);
    } else if (msg.type === "data") {
      this.plot.setData(msg);
    } else if (msg.type === "error" || msg.type === "busy") {
      this.note(`Run B: ${msg.message}`);
    }
  }

  onFrame(buffer, socket) {
    if (socket !== this.socket) return;
    let frame;
    try {
      frame = parseFrame(buffer);
    } catch (e) {
      const seq = frameSeq(buffer);
      if (seq !== null) socket.send({ type: "ack", seq });
      this.note(`Run B: could not read a frame: ${e.message}`);
      return;
    }
    const meta = frame.meta;
    try {
      this.plot.drawFrame(frame);
      if (meta.run !== this.run) {
        this.points = [];
        this.run = meta.run;
      }
      const x = meta.epoch + (meta.steps_per_epoch ? meta.batch / meta.steps_per_epoch : 0);
      while (this.points.length && this.points[this.points.length - 1][0] >= x) this.points.pop();
      this.points.push([x, meta.train_loss, meta.test_loss]);
      this.hooks.chart.setOther(this.points, this.legend || "");
      this.els.epoch.textContent = String(meta.epoch);
      this.els.trainLoss.textContent = formatLoss(meta.train_loss);
      this.els.testLoss.textContent = formatLoss(meta.test_loss);
      this.els.plot.dataset.epoch = String(meta.epoch);
    } finally {
      socket.send({ type: "ack", seq: meta.seq });
    }
  }

  stop() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }

  /** Close the panel and run B's socket. */
  close() {
    this.stop();
    this.spec = null;
    this.els.panel.hidden = true;
    this.els.panel.dataset.state = "closed";
    this.els.open.setAttribute("aria-pressed", "false");
    this.hooks.chart.setOther([], "");
    this.hooks.changed("");
  }
}
