// The backprop inspector: one training point (or the next batch) through the network with the
// engine's own numbers (the server's `inspection` messages): forward z and a of every neuron,
// the loss, backward δ, ∂L/∂W and ∂L/∂b, then the optimizer's step, each beside its formula.
// Stepped in three stages (forward, backward, update); the values also label the diagram.

const PHASES = ["forward", "backward", "update"];
const PHASE_TEXT = {
  forward: "Forward: the input goes through each layer, then the loss compares the output with the target.",
  backward: "Backward: the error term δ flows back from the loss, layer by layer, giving every gradient.",
  update: "Update: the optimizer turns each gradient into the step it takes.",
};

const DERIVATIVE = {
  relu: "f'(z) = 1 if z > 0, else 0",
  leaky_relu: "f'(z) = 1 if z > 0, else α",
  tanh: "f'(z) = 1 − a²",
  sigmoid: "f'(z) = a·(1 − a)",
  linear: "f'(z) = 1",
  softmax: "softmax: see the output δ",
};

/** The formulas when the server sends none (its `formulas` use the same notation). */
const FALLBACK = {
  z: "z = a_prev·W + b",
  a: "a = f(z)",
  loss: "L = loss(p, t)",
  delta_output: "δ = ∂L/∂z (p − t for cross-entropy with sigmoid/softmax)",
  delta_hidden: "δ = (δ_next·W_nextᵀ) ⊙ f′(z)",
  dW: "∂L/∂W = a_prevᵀ·δ",
  db: "∂L/∂b = δ",
};
const STEP = {
  sgd: "Δw = −η·g",
  momentum: "v ← μ·v − η·g;  Δw = v",
  adam: "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  Δw = −η·m̂/(√v̂+ε)",
  rmsprop: "s ← ρs + (1−ρ)g²;  Δw = −η·g/√(s+ε)",
  adagrad: "s ← s + g²;  Δw = −η·g/√(s+ε)",
};

/** A number in 4 significant digits ("0.01235", "-1.200e-5"); "–" when missing. */
export function short(v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return v === null || v === undefined ? "–" : String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
  return v.toExponential(3);
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

/** One number: shown short, kept whole in data-value, named by data-q/l/i/j for tests. */
function num(v, q, l, i, j) {
  const attrs = { class: "num", "data-q": q, "data-value": String(v), text: short(v) };
  if (l !== undefined) attrs["data-l"] = String(l);
  if (i !== undefined) attrs["data-i"] = String(i);
  if (j !== undefined) attrs["data-j"] = String(j);
  if (typeof v === "number" && v < 0) attrs.class += " neg";
  return el("td", attrs);
}

const formula = (text) => el("div", { class: "formula", text });

/** The server's formula for a step (or the page's own). */
function rule(msg, key) {
  const f = msg.formulas && typeof msg.formulas[key] === "string" ? msg.formulas[key] : null;
  return f || FALLBACK[key] || (key === "step" ? STEP[(msg.optimizer || {}).name] || "Δw = the optimizer's step for g" : key);
}

export class Inspector {
  /**
   * @param {object} parts {panel, body, what, phases (buttons by data-phase), next, batch, close, open,
   *   number (the "Training point #" input: the keyboard's way to pick a point)}
   * @param {object} on callbacks: send(message), mark(trainIndex | null, batchRows | null), nodes() -> the diagram's
   *   node lists [inputs, hidden layers..., outputs] (elements)
   */
  constructor(parts, on) {
    Object.assign(this, parts);
    this.on = on;
    this.scope = null;
    this.index = null;
    this.msg = null;
    this.names = [];
    this.phase = 0;
    this.scheduled = false;
    for (const b of this.phases) b.addEventListener("click", () => this.setPhase(PHASES.indexOf(b.dataset.phase)));
    this.next.addEventListener("click", () => this.setPhase((this.phase + 1) % PHASES.length));
    this.batch.addEventListener("click", () => this.inspectBatch());
    this.close.addEventListener("click", () => this.stop());
    this.open.addEventListener("click", () => (this.panel.hidden ? this.show() : this.stop()));
    this.number.addEventListener("change", () => {
      const i = Number(this.number.value);
      if (this.number.value.trim() !== "" && Number.isInteger(i) && i >= 0) this.pick(i);
    });
    this.setPhase(0);
  }

  /** Open the panel (nothing inspected yet: it says how to start). */
  show() {
    const opening = this.panel.hidden;
    this.panel.hidden = false;
    if (!this.msg) this.body.replaceChildren(el("p", { class: "small", text: "Click a training point on the plot (outside “Edit points”), or press “Inspect a batch”." }));
    this.open.setAttribute("aria-pressed", "true");
    // Bring the panel's top into view once, when it opens (not on every pick: the plot stays put).
    if (opening) this.panel.scrollIntoView({ block: "nearest" });
  }

  pick(index) {
    this.scope = "point";
    this.index = index;
    this.number.value = String(index);
    this.on.mark(index);
    this.show();
    this.on.send({ type: "inspect", scope: "point", index });
  }

  inspectBatch() {
    this.scope = "batch";
    this.index = null;
    this.on.mark(null);
    this.show();
    this.on.send({ type: "inspect", scope: "batch" });
  }

  stop() {
    if (this.scope) this.on.send({ type: "inspect", scope: null });
    this.closedByServer();
  }

  /** The server turned the inspector off (its point is gone): close without asking. */
  closedByServer() {
    this.scope = null;
    this.index = null;
    this.msg = null;
    this.on.mark(null);
    this.panel.hidden = true;
    this.open.setAttribute("aria-pressed", "false");
    this.undecorate();
  }

  /** The feature names of the network (state.network.inputs). */
  setInputs(names) {
    this.names = names || [];
    this.decorate();
  }

  /** New data: a point index past the end is gone. */
  setData(data) {
    this.number.max = String(Math.max(0, data.train.length - 1));
    if (this.scope === "point" && this.index !== null && this.index >= data.train.length) this.stop();
  }

  setPhase(k) {
    this.phase = Math.max(0, k);
    for (const b of this.phases) b.setAttribute("aria-pressed", String(b.dataset.phase === PHASES[this.phase]));
    this.next.textContent = this.phase === PHASES.length - 1 ? "Back to forward" : `Next: ${PHASES[this.phase + 1]}`;
    this.render();
  }

  /** An `inspection` message (drawn on the next animation frame: they may come fast). */
  receive(msg) {
    if (!this.scope) return; // an answer after "close"
    this.msg = msg;
    if (msg.scope === "point" && Number.isInteger(msg.index)) this.on.mark(msg.index, null);
    else if (msg.scope === "batch") this.on.mark(null, msg.rows || null);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => {
        this.scheduled = false;
        this.render();
      });
    }
  }

  render() {
    const msg = this.msg;
    if (!msg || this.panel.hidden) return;
    const layers = msg.layers || [];
    const nIn = layers.length ? (layers[0].W || []).length : (msg.x || []).length;
    const inputs = Array.from({ length: nIn }, (_, i) => this.names[i] || `x${i + 1}`);
    const what = msg.scope === "batch"
      ? `the next batch: ${(msg.rows || []).length} points (batch means; the gradient the engine averages)`
      : `training point #${msg.index}`;
    this.what.textContent = `· ${what}`;
    this.panel.dataset.scope = msg.scope || "";
    this.panel.dataset.index = msg.index ?? "";
    this.panel.dataset.rows = (msg.rows || []).join(",");
    const out = [el("p", { class: "phase-text", text: `Step ${this.phase + 1} of 3. ${PHASE_TEXT[PHASES[this.phase]]}` })];
    out.push(this.forward(msg, inputs));
    if (this.phase >= 1) out.push(this.backward(msg, inputs));
    if (this.phase >= 2) out.push(this.update(msg, inputs));
    this.body.replaceChildren(...out);
    this.decorate();
  }

  forward(msg, inputs) {
    const layers = msg.layers || [];
    const part = el("div", { class: "stage", "data-stage": "forward" }, [el("h3", { text: "1 · Forward" })]);
    const xRow = el("tr", {}, [el("th", { text: msg.scope === "batch" ? "x (mean)" : "x" })]);
    (msg.x || []).forEach((v, i) => xRow.append(num(v, "x", undefined, i)));
    const head = el("tr", {}, [el("th")]);
    inputs.forEach((name) => head.append(el("th", { text: name })));
    part.append(el("table", { class: "vec" }, [head, xRow]));
    if (msg.target !== null && msg.target !== undefined) part.append(el("p", { class: "small", text: `target t = ${short(msg.target)}` }));
    layers.forEach((layer, l) => {
      const block = el("div", { class: "layer-block" }, [el("h4", { text: `${layer.name} (${layer.activation})` })]);
      block.append(formula(rule(msg, "z")), formula(`${rule(msg, "a")},  f = ${layer.activation}`));
      block.append(this.unitTable(layer, l, [["b", "b", "bias b"], ["z", "z", "z"], ["a", "a", "a = f(z)"]]));
      block.append(this.matrix(layer.W, "W", l, l === 0 ? inputs : null, "weights W (row: input, column: neuron)"));
      part.append(block);
    });
    part.append(el("div", { class: "loss-line" }, [
      formula(rule(msg, "loss")),
      el("table", { class: "vec" }, [el("tr", {}, [el("th", { text: "loss L" }), num(msg.loss, "loss")])]),
    ]));
    return part;
  }

  backward(msg, inputs) {
    const layers = msg.layers || [];
    const part = el("div", { class: "stage", "data-stage": "backward" }, [el("h3", { text: "2 · Backward" })]);
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l];
      const block = el("div", { class: "layer-block" }, [el("h4", { text: layer.name })]);
      if (l === layers.length - 1) {
        block.append(formula(rule(msg, "delta_output")));
      } else {
        block.append(formula(rule(msg, "delta_hidden")), formula(DERIVATIVE[layer.activation] || "f'(z): the activation's slope"));
      }
      block.append(formula(`${rule(msg, "dW")}    ${rule(msg, "db")}`));
      block.append(this.unitTable(layer, l, [["delta", "delta", "δ"], ["db", "db", "∂L/∂b"]]));
      block.append(this.matrix(layer.dW, "dW", l, l === 0 ? inputs : null, "∂L/∂W"));
      part.append(block);
    }
    return part;
  }

  update(msg, inputs) {
    const layers = msg.layers || [];
    const opt = msg.optimizer || {};
    const name = opt.name || "sgd";
    const part = el("div", { class: "stage", "data-stage": "update" }, [el("h3", { text: "3 · Update" })]);
    const hyper = Object.entries(opt.hyperparameters || {})
      .filter(([k, v]) => typeof v === "number" && k !== "learning_rate")
      .map(([k, v]) => `${k} ${short(v)}`).join(", ");
    part.append(el("p", { class: "small", text: `optimizer ${name}, learning rate η = ${short(opt.lr)}${hyper ? `, ${hyper}` : ""}${Number.isInteger(opt.iterations) ? `, ${opt.iterations} steps so far` : ""}; the step it would take now (training is not changed)` }));
    part.append(formula(rule(msg, "step")));
    layers.forEach((layer, l) => {
      const block = el("div", { class: "layer-block" }, [el("h4", { text: layer.name })]);
      block.append(this.unitTable(layer, l, [["step_b", "step_b", "Δb"]]));
      block.append(this.matrix(layer.step_W, "step_W", l, l === 0 ? inputs : null, "Δw"));
      part.append(block);
    });
    const state = opt.state && typeof opt.state === "object" ? Object.entries(opt.state) : [];
    if (state.length) {
      const box = el("div", { class: "layer-block" }, [el("h4", { text: "Optimizer state (before this step)" })]);
      for (const [slot, value] of state) {
        if (Array.isArray(value) && value.every((v) => v && typeof v === "object" && "W" in v)) {
          value.forEach((v, l) => {
            const name = (layers[l] && layers[l].name) || `layer ${l + 1}`;
            box.append(this.matrix(v.W, `state:${slot}:W`, l, l === 0 ? inputs : null, `${slot} of W, ${name}`));
            box.append(this.unitTable({ [slot]: v.b }, l, [[slot, `state:${slot}:b`, `${slot} of b`]]));
          });
        } else {
          box.append(el("div", { class: "small", text: slot }), this.anyArray(value, `state:${slot}`));
        }
      }
      part.append(box);
    }
    return part;
  }

  /** Per-neuron values of a layer as columns: one row per quantity. */
  unitTable(layer, l, rows) {
    const units = (layer[rows[0][0]] || layer.z || []).length;
    const head = el("tr", {}, [el("th", { text: "neuron" })]);
    for (let j = 0; j < units; j++) head.append(el("th", { text: String(j + 1) }));
    const table = el("table", { class: "vec" }, [head]);
    for (const [key, q, label] of rows) {
      const tr = el("tr", {}, [el("th", { text: label })]);
      (layer[key] || []).forEach((v, j) => tr.append(num(v, q, l, undefined, j)));
      table.append(tr);
    }
    return table;
  }

  /** A fan_in × units matrix with its input names (first layer) or "from neuron i". */
  matrix(rows, q, l, names, caption) {
    const table = el("table", { class: "mat" }, [el("caption", { text: caption })]);
    if (!Array.isArray(rows)) return table;
    const units = rows.length ? rows[0].length : 0;
    const head = el("tr", {}, [el("th")]);
    for (let j = 0; j < units; j++) head.append(el("th", { text: `→${j + 1}` }));
    table.append(head);
    rows.forEach((row, i) => {
      const tr = el("tr", {}, [el("th", { text: names ? names[i] : `from ${i + 1}` })]);
      row.forEach((v, j) => tr.append(num(v, q, l, i, j)));
      table.append(tr);
    });
    return table;
  }

  /** Optimizer slots: numbers, lists or lists of matrices, shown as they come. */
  anyArray(value, q) {
    const wrap = el("div", { class: "slot" });
    const put = (v, path) => {
      if (Array.isArray(v) && v.length && Array.isArray(v[0]) && Array.isArray(v[0][0])) {
        v.forEach((m, k) => put(m, [...path, k]));
      } else if (Array.isArray(v) && v.length && Array.isArray(v[0])) {
        wrap.append(this.matrix(v, q, path.join("."), null, path.length ? `[${path.join("][")}]` : ""));
      } else if (Array.isArray(v) && v.length && v.some(Array.isArray)) {
        v.forEach((m, k) => put(m, [...path, k]));
      } else if (Array.isArray(v)) {
        const tr = el("tr", {}, [el("th", { text: path.length ? `[${path.join("][")}]` : "" })]);
        v.forEach((x, j) => tr.append(num(x, q, path.join("."), undefined, j)));
        wrap.append(el("table", { class: "vec" }, [tr]));
      } else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) put(x, [...path, k]);
      } else {
        wrap.append(el("table", { class: "vec" }, [el("tr", {}, [el("th", { text: path.join(".") }), num(v, q)])]));
      }
    };
    put(value, []);
    return wrap;
  }

  /** Small labels on the diagram: the inputs' x, then each neuron's a (forward) or δ (later). */
  decorate() {
    this.undecorate();
    const msg = this.msg;
    if (!msg || this.panel.hidden) return;
    const cols = this.on.nodes();
    if (!cols || !cols.length) return;
    const key = this.phase === 0 ? "a" : "delta";
    const sym = this.phase === 0 ? "a" : "δ";
    const label = (node, text, full) => {
      if (!node) return;
      const span = el("span", { class: "insp-label", "aria-hidden": "true", text, title: full });
      node.append(span);
      node.dataset.inspected = full;
    };
    (msg.x || []).forEach((v, i) => label(cols[0][i], short(v), `x = ${v}`));
    (msg.layers || []).forEach((layer, l) => {
      (layer[key] || []).forEach((v, j) => label((cols[l + 1] || [])[j], short(v), `${sym} = ${v}`));
    });
  }

  undecorate() {
    for (const span of document.querySelectorAll(".insp-label")) {
      delete span.parentElement.dataset.inspected;
      span.remove();
    }
  }
}
