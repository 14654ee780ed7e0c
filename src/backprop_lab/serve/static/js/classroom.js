// Classroom: challenge presets in the URL (`challenge=ID`: a goal the page checks on every frame
// and says when it is met) and `hide=lr,optimizer,...` to hide controls a teacher does not want yet.

const hiddenUnits = (settings) => settings.layers.reduce((sum, l) => sum + l.units, 0);
const pct = (v) => `${(100 * v).toFixed(1)}%`;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The presets. Each has a goal (one sentence), `start`: settings applied where the URL gives none,
 * and `check(meta, settings)` -> {met, progress}: whether a frame meets the goal, and a line on
 * where the run stands.
 */
export const CHALLENGES = {
  circle95n4: {
    goal: "Reach 95% test accuracy on the circle with at most 4 hidden neurons.",
    start: { dataset: "circle", layers: [{ units: 4, activation: "relu" }] },
    check(meta, settings) {
      const n = hiddenUnits(settings);
      const acc = meta.test_accuracy;
      const rightData = settings.dataset === "circle";
      return {
        met: rightData && n <= 4 && acc !== null && acc >= 0.95,
        progress: !rightData ? "switch back to the circle"
          : `${acc === null ? "–" : pct(acc)} test accuracy with ${plural(n, "hidden neuron")}`
            + (n > 4 ? " (too many: at most 4)" : ""),
      };
    },
  },
  xor95linear: {
    goal: "Reach 95% test accuracy on XOR with no hidden layer at all (hint: the inputs).",
    start: { dataset: "xor", layers: [] },
    check(meta, settings) {
      const acc = meta.test_accuracy;
      const rightData = settings.dataset === "xor";
      const layers = settings.layers.length;
      return {
        met: rightData && layers === 0 && acc !== null && acc >= 0.95,
        progress: !rightData ? "switch back to xor"
          : `${acc === null ? "–" : pct(acc)} test accuracy with ${plural(layers, "hidden layer")}`
            + (layers ? " (remove them)" : ""),
      };
    },
  },
  spiral90l2: {
    goal: "Reach 90% test accuracy on the two-class spiral with at most 2 hidden layers.",
    start: { dataset: "spiral", classes: 2, layers: [{ units: 8, activation: "tanh" }] },
    check(meta, settings) {
      const acc = meta.test_accuracy;
      const rightData = settings.dataset === "spiral" && settings.classes === 2;
      const layers = settings.layers.length;
      return {
        met: rightData && layers <= 2 && acc !== null && acc >= 0.9,
        progress: !rightData ? "switch back to the two-class spiral"
          : `${acc === null ? "–" : pct(acc)} test accuracy with ${plural(layers, "hidden layer")}`
            + (layers > 2 ? " (too many: at most 2)" : ""),
      };
    },
  },
  bump95n6: {
    goal: "Reach a test R² of 0.95 on the bump surface with at most 6 hidden neurons.",
    start: { dataset: "bump", layers: [{ units: 6, activation: "tanh" }] },
    check(meta, settings) {
      const n = hiddenUnits(settings);
      const r2 = meta.r2;
      const rightData = settings.dataset === "bump";
      return {
        met: rightData && n <= 6 && r2 !== null && r2 !== undefined && r2 >= 0.95,
        progress: !rightData ? "switch back to the bump"
          : `test R² ${r2 === null || r2 === undefined ? "–" : r2.toFixed(3)} with ${plural(n, "hidden neuron")}`
            + (n > 6 ? " (too many: at most 6)" : ""),
      };
    },
  },
};

/**
 * The controls `hide=` can hide, by the name of their setting (or page option): the ids of the
 * elements to hide (a control inside a `.field` hides its whole field). `layers` also hides the
 * diagram's per-layer buttons and selects, by a class on the body (they are rebuilt often).
 */
export const HIDEABLE = {
  dataset: ["dataset"], classes: ["classes"], points: ["points"], noise: ["noise"],
  test_ratio: ["test-ratio"], regenerate: ["regenerate"], layers: ["add-layer", "remove-layer"],
  activation: ["activation"], regularization: ["regularization"], reg_rate: ["reg-rate"],
  optimizer: ["optimizer"], lr: ["lr"], batch_size: ["batch-size"], loss: ["loss"],
  speed: ["speed"], seed: ["seed"], weights: ["new-weights"], timeline: ["timeline"],
  edges: ["edge-mode"], test: ["show-test"], discretize: ["discretize"],
  landscape: ["landscape-open"],
};

/**
 * Hide the named controls.
 * @param {string[]} names
 * @returns {string[]} the names that are not known (left visible).
 */
export function hideControls(names) {
  const unknown = [];
  for (const name of names) {
    const ids = HIDEABLE[name];
    if (!ids) {
      unknown.push(name);
      continue;
    }
    document.body.classList.add(`hide-${name}`);
    for (const id of ids) {
      const node = document.getElementById(id);
      if (!node) continue;
      const box = node.closest(".field") || node;
      box.hidden = true;
      box.dataset.hiddenBy = "hide";
    }
  }
  return unknown;
}

/** The names of a `hide=` value ("lr, optimizer" -> ["lr", "optimizer"]). */
export function hideList(text) {
  return (text || "").split(",").map((s) => s.trim()).filter(Boolean);
}

export class Challenge {
  /**
   * @param {object} parts {root, goal, progress, done}: the banner, its goal line, the line on
   *   where the run stands (updated every frame, so not a live region) and the "met" line (a
   *   status region: said once)
   * @param {string} id a key of CHALLENGES
   */
  constructor(parts, id) {
    Object.assign(this, parts);
    this.id = id;
    this.preset = CHALLENGES[id];
    this.met = null; // the line said when the goal was first met
    this.root.hidden = false;
    this.root.dataset.challenge = id;
    this.root.dataset.met = "0";
    this.goal.textContent = this.preset.goal;
    this.progress.textContent = "Press Play to start.";
  }

  /** Check one frame against the goal (the settings are those of the last `state`). */
  check(meta, settings) {
    if (this.met || !settings) return;
    const { met, progress } = this.preset.check(meta, settings);
    if (met) {
      this.met = `Challenge met at epoch ${meta.epoch}: ${progress}.`;
      this.progress.hidden = true;
      this.done.textContent = this.met;
      this.root.dataset.met = "1";
      this.root.classList.add("met");
    } else {
      this.progress.textContent = `Not met yet: ${progress}.`;
    }
  }
}
