// The form controls: fill them from the server's `state`, and turn user changes into settings.
// Their lists come from the server's `hello` (choices, limits); the fallbacks below are for an
// older server that does not send them.

const FALLBACK_MULTICLASS = ["gaussians", "spiral", "blobs"];
const FALLBACK_REGRESSION = ["plane", "bump", "ripple"];
const MAX_CLASSES = 6;
/** The speed slider's stops, in epochs per second. */
export const SPEEDS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

const LABELS = {
  optimizer: { sgd: "SGD", momentum: "SGD + momentum", adam: "Adam", rmsprop: "RMSprop", adagrad: "Adagrad" },
  loss: {
    auto: "auto (by problem)", binary_crossentropy: "binary cross-entropy",
    sparse_categorical_crossentropy: "categorical cross-entropy", mse: "mean squared error",
  },
  regularization: { none: "None", l1: "L1", l2: "L2" },
};

const FALLBACK_CHOICES = {
  dataset: ["circle", "xor", "gaussians", "spiral", "moons", "rings", "blobs", ...FALLBACK_REGRESSION],
  optimizer: Object.keys(LABELS.optimizer),
  loss: Object.keys(LABELS.loss),
  regularization: Object.keys(LABELS.regularization),
  activation: ["relu", "tanh", "sigmoid", "linear", "leaky_relu"],
};

const $ = (id) => document.getElementById(id);

function fillSelect(select, values, labels = {}) {
  const current = select.value;
  select.replaceChildren(...values.map((v) => new Option(labels[v] || v, v)));
  if (values.includes(current)) select.value = current;
}

/** The speed stop nearest to a speed (in log scale). */
export function speedIndex(speed) {
  let best = 0;
  for (let i = 1; i < SPEEDS.length; i++) {
    if (Math.abs(Math.log(SPEEDS[i] / speed)) < Math.abs(Math.log(SPEEDS[best] / speed))) best = i;
  }
  return best;
}

function speedText(speed) {
  return `${speed} epoch${speed === 1 ? "" : "s"}/s`;
}

export class Controls {
  /**
   * @param {object} on callbacks: send(partialSettings), notice(text), page(pageOptions)
   */
  constructor(on) {
    this.on = on;
    this.settings = null;
    this.el = {
      dataset: $("dataset"), classes: $("classes"), points: $("points"), noise: $("noise"),
      test_ratio: $("test-ratio"), regularization: $("regularization"), reg_rate: $("reg-rate"),
      optimizer: $("optimizer"), lr: $("lr"), batch_size: $("batch-size"), loss: $("loss"),
      speed: $("speed"), seed: $("seed"), activation: $("activation"),
    };
    this.setClasses(MAX_CLASSES);
    this.setChoices(FALLBACK_CHOICES);
    this.bind();
  }

  /** The server's lists (hello.choices): names of each text setting, and which datasets are
   * multi-class (`multiclass`) or regressions (`regression`). */
  setChoices(choices) {
    const list = (key, fallback) => (choices && Array.isArray(choices[key]) ? choices[key] : fallback);
    this.multiclass = new Set(list("multiclass", FALLBACK_MULTICLASS));
    this.regression = new Set(list("regression", FALLBACK_REGRESSION));
    const datasetLabels = {};
    for (const name of this.regression) datasetLabels[name] = `${name} (regression)`;
    for (const key of ["dataset", "optimizer", "loss", "regularization", "activation"]) {
      fillSelect(this.el[key], list(key, FALLBACK_CHOICES[key]), key === "dataset" ? datasetLabels : LABELS[key]);
    }
    const names = [...this.multiclass];
    $("classes-note").textContent = names.length
      ? `only ${names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0]} have more than 2`
      : "every dataset here has 2";
    this.el.activation.append(new Option("(mixed)", "mixed"));
    this.el.activation.lastChild.disabled = true;
    this.activations = (choices && choices.activation) || FALLBACK_CHOICES.activation;
  }

  /** The classes 2..max in their select. */
  setClasses(max) {
    fillSelect(this.el.classes, Array.from({ length: max - 1 }, (_, i) => String(i + 2)));
  }

  setLimits(limits) {
    if (!limits) return;
    if (limits.max_classes) this.setClasses(limits.max_classes);
    if (limits.max_points) this.el.points.max = limits.max_points;
    if (limits.min_points) this.el.points.min = limits.min_points;
  }

  bind() {
    const el = this.el;
    const numberInput = (key, integer) => {
      const input = el[key];
      input.addEventListener("input", () => (input.dataset.dirty = "1"));
      input.addEventListener("change", () => {
        delete input.dataset.dirty;
        const v = Number(input.value);
        if (input.value.trim() === "" || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
          this.on.notice(`${input.labels[0].textContent} must be ${integer ? "a whole number" : "a number"}.`, true);
          this.restore();
          return;
        }
        this.on.send({ [key]: v });
      });
    };
    numberInput("points", true);
    numberInput("reg_rate", false);
    numberInput("lr", false);
    numberInput("batch_size", true);
    numberInput("seed", true);
    for (const key of ["noise", "test_ratio"]) {
      const input = el[key];
      const out = $(`${input.id}-value`);
      input.addEventListener("input", () => (out.textContent = Number(input.value).toFixed(2)));
      input.addEventListener("change", () => this.on.send({ [key]: Number(input.value) }));
    }
    el.speed.addEventListener("input", () => this.showSpeed(SPEEDS[Number(el.speed.value)]));
    el.speed.addEventListener("change", () => this.on.send({ speed: SPEEDS[Number(el.speed.value)] }));
    for (const key of ["optimizer", "regularization", "loss"]) {
      el[key].addEventListener("change", () => this.on.send({ [key]: el[key].value }));
    }
    el.classes.addEventListener("change", () => this.on.send({ classes: Number(el.classes.value) }));
    el.dataset.addEventListener("change", () => {
      const name = el.dataset.value;
      const change = { dataset: name };
      if (!this.multiclass.has(name)) change.classes = 2;
      const before = this.settings ? this.settings.dataset : name;
      if (this.regression.has(name) !== this.regression.has(before)) change.loss = "auto";
      this.on.send(change);
    });
    el.activation.addEventListener("change", () => {
      const layers = this.settings.layers.map((l) => ({ units: l.units, activation: el.activation.value }));
      if (layers.length) this.on.send({ layers });
    });
    $("regenerate").addEventListener("click", () => {
      const seed = crypto.getRandomValues(new Uint32Array(1))[0];
      this.on.send({ seed });
    });
  }

  showSpeed(speed) {
    const text = speedText(speed);
    $("speed-value").textContent = text;
    this.el.speed.setAttribute("aria-valuetext", text);
  }

  /** Put the controls back to the last settings the server accepted. */
  restore() {
    if (this.settings) this.set(this.settings, true);
  }

  /** Show the settings of a `state` message (the server's validated truth). */
  set(settings, force = false) {
    this.settings = settings;
    const el = this.el;
    // Edited or uploaded points: a disabled "custom data" entry shows it (choosing another regenerates).
    if (settings.dataset && ![...el.dataset.options].some((o) => o.value === settings.dataset)) {
      const option = new Option(settings.dataset === "custom" ? "custom data" : settings.dataset, settings.dataset);
      option.disabled = true;
      el.dataset.append(option);
    }
    const put = (key, value) => {
      const input = el[key];
      if (!force && input === document.activeElement && input.dataset.dirty) return;
      input.value = String(value);
    };
    for (const key of ["dataset", "points", "regularization", "reg_rate", "optimizer", "lr",
      "batch_size", "loss", "seed", "noise", "test_ratio", "classes"]) {
      if (key in settings) put(key, settings[key]);
    }
    $("noise-value").textContent = Number(settings.noise).toFixed(2);
    $("test-ratio-value").textContent = Number(settings.test_ratio).toFixed(2);
    el.speed.value = String(speedIndex(settings.speed));
    this.showSpeed(settings.speed);
    const multi = this.multiclass.has(settings.dataset);
    el.classes.disabled = !multi;
    $("classes-note").hidden = multi;
    const acts = new Set(settings.layers.map((l) => l.activation));
    el.activation.value = acts.size === 1 ? [...acts][0] : acts.size === 0 ? el.activation.value : "mixed";
    el.activation.disabled = settings.layers.length === 0;
  }
}
