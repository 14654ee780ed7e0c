// The network diagram and editor: feature inputs, hidden neurons as live thumbnails,
// the output, SVG edges by weight; add/remove layers and neurons, per-layer activation.
// Hidden neurons and outputs take the keyboard focus: a tooltip lists their incoming weights.
// The edges show, by choice, the weights, their gradients or their change since the last frame
// (edge-colors.js); a dead or saturated hidden neuron carries a mark and says why on hover and
// focus (neuron-flags.js).

import { CLASS_COLORS, css, paint, table } from "./colors.js";
import {
  EDGE_MODES, edgeTop, edgeValue, formatSmall, largestKernelValue, paintEdge,
} from "./edge-colors.js";
import { FEATURES, drawFeature, featureLabel } from "./features.js";
import { splitWeights } from "./frame.js";
import { incomingLines } from "./incoming.js";
import { NeuronFocus } from "./neuron-focus.js";
import { markFlag, neuronFlag, neuronFlagText } from "./neuron-flags.js";

const SVG = "http://www.w3.org/2000/svg";
const THUMB = 20;

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

export class NetworkView {
  /**
   * @param {object} parts {root, columns, svg, tooltip, addLayer, removeLayer, layerCount, layersNote}
   * @param {object} on callbacks: features(list), layers(list), focus([l, i] | null)
   */
  constructor(parts, on) {
    Object.assign(this, parts);
    this.on = on;
    this.limits = { max_layers: 6, max_units: 16 };
    this.activations = ["relu", "tanh", "sigmoid", "linear", "leaky_relu"];
    this.features = FEATURES; // until the server's hello lists them
    this.focus = new NeuronFocus((neuron) => this.on.focus(neuron));
    this.tipped = null; // the node whose incoming weights the tooltip lists
    this.settings = null;
    this.network = null;
    this.extent = [-1, 1, -1, 1];
    this.edges = [];
    this.weights = null;
    this.edgeMode = "weight";
    this.layerArrays = { weights: null, grads: null, changes: null };
    this.scale = { weights: 2.5, grads: 1, changes: 1 };
    this.flags = []; // per hidden layer, per neuron: "" | "dead" | "saturated"
    this.flagged = null; // the hovered neuron whose flag the tooltip explains
    this.addLayer.addEventListener("click", () => this.changeLayers("add"));
    this.removeLayer.addEventListener("click", () => this.changeLayers("remove"));
    new ResizeObserver(() => this.layoutEdges()).observe(this.root);
  }

  /** The server's limits and lists (its `hello`): layers, units, activations, features. */
  setLimits(limits, activations, features) {
    if (limits) this.limits = { ...this.limits, ...limits };
    if (activations && activations.length) this.activations = activations;
    if (features && features.length) this.features = features;
  }

  /** Rebuild the diagram for the settings and network of a `state` message. */
  setState(settings, network) {
    const key = JSON.stringify([settings.features, settings.layers, network && network.output]);
    this.settings = settings;
    this.network = network;
    if (key === this.key) return;
    this.key = key;
    this.build();
  }

  setExtent(extent) {
    this.extent = extent;
    for (const c of this.columns.querySelectorAll("canvas[data-feature]")) {
      drawFeature(c, c.dataset.feature, extent);
    }
  }

  changeLayers(how, index) {
    const layers = this.settings.layers.map((l) => ({ ...l }));
    const act = layers.length ? layers[layers.length - 1].activation : "relu";
    if (how === "add") layers.push({ units: 4, activation: act });
    else if (how === "remove") layers.pop();
    else if (how === "more") layers[index].units += 1;
    else if (how === "fewer") layers[index].units -= 1;
    this.on.layers(layers);
  }

  build() {
    const { settings, limits } = this;
    const layers = settings.layers;
    const nLayers = layers.length;
    this.addLayer.disabled = nLayers >= limits.max_layers;
    this.removeLayer.disabled = nLayers === 0;
    this.layersNote.hidden = nLayers < limits.max_layers;
    this.layersNote.textContent = `at most ${limits.max_layers} hidden layers`;
    this.layerCount.textContent = `${nLayers} hidden layer${nLayers === 1 ? "" : "s"}`;
    // A neuron under the mouse or the focus goes away with the old diagram: the output again.
    this.focus.reset();
    this.hideIncoming();
    this.flagged = null;
    this.tooltip.hidden = true;
    this.columns.replaceChildren();
    this.nodes = [];

    // Inputs: every feature, switched on or off.
    const inputs = el("div", { class: "column inputs" }, [el("div", { class: "col-head", text: "Features" })]);
    const active = new Set(settings.features);
    const inputNodes = {};
    for (const name of this.features) {
      const [html, plain] = featureLabel(name);
      const canvas = el("canvas", { width: THUMB, height: THUMB, "data-feature": name, class: "thumb" });
      drawFeature(canvas, name, this.extent);
      const button = el("button", {
        type: "button", class: "node feature", "aria-pressed": String(active.has(name)),
        "aria-label": plain, title: active.has(name) ? `${plain}: on (click to switch off)` : `${plain}: off (click to switch on)`,
      }, [canvas, el("span", { class: "feature-name", html })]);
      button.addEventListener("click", () => this.toggleFeature(name));
      inputs.append(button);
      inputNodes[name] = button;
    }
    this.columns.append(inputs);
    const order = (this.network && this.network.inputs) || this.features.filter((f) => active.has(f));
    this.nodes.push(order.map((f) => inputNodes[f]));
    this.names = [order.map((f) => featureLabel(f)[1])];

    // Hidden layers.
    this.thumbs = [];
    this.targets = [];
    layers.forEach((layer, l) => {
      const n = l + 1;
      const more = el("button", { type: "button", class: "mini", "aria-label": `Add neuron to layer ${n}`, text: "+" });
      const fewer = el("button", { type: "button", class: "mini", "aria-label": `Remove neuron from layer ${n}`, text: "−" });
      more.disabled = layer.units >= limits.max_units;
      fewer.disabled = layer.units <= 1;
      more.title = more.disabled ? `At most ${limits.max_units} neurons per layer` : "Add a neuron";
      fewer.title = fewer.disabled ? "A layer needs at least 1 neuron (remove the layer instead)" : "Remove a neuron";
      more.addEventListener("click", () => this.changeLayers("more", l));
      fewer.addEventListener("click", () => this.changeLayers("fewer", l));
      const select = el("select", { "aria-label": `Layer ${n} activation`, class: "layer-act" });
      for (const a of this.activations) select.append(el("option", { value: a, text: a }));
      select.value = layer.activation;
      select.addEventListener("change", () => {
        const next = this.settings.layers.map((x) => ({ ...x }));
        next[l].activation = select.value;
        this.on.layers(next);
      });
      const note = el("div", { class: "note", text: more.disabled ? `max ${limits.max_units}` : "" });
      const head = el("div", { class: "col-head" }, [
        el("div", { class: "plusminus" }, [more, fewer]),
        el("div", { class: "small", text: `${layer.units} neuron${layer.units === 1 ? "" : "s"}` }),
        select, note,
      ]);
      const column = el("div", { class: "column hidden-layer" }, [head]);
      const nodes = [];
      for (let i = 0; i < layer.units; i++) {
        const canvas = el("canvas", { width: THUMB, height: THUMB, class: "thumb" });
        const node = el("div", {
          class: "node neuron", "data-neuron": `${l},${i}`, tabindex: "0", role: "button",
          "aria-label": `Neuron ${i + 1} of layer ${n}`,
          title: `Layer ${n}, neuron ${i + 1}: hover or focus it to see it on the big plot`,
        }, [canvas]);
        const badge = el("span", { class: "flag", "aria-hidden": "true", hidden: "" });
        node.append(badge);
        const target = { node, neuron: [l, i], k: l + 1, j: i, name: `Layer ${n}, neuron ${i + 1}`, badge };
        this.targets.push(target);
        node.addEventListener("mouseenter", () => {
          this.focus.hover(target);
          this.showFlag(target);
        });
        node.addEventListener("mouseleave", () => {
          this.focus.hover(null);
          this.hideFlag(target);
        });
        this.bindKeyboard(target);
        column.append(node);
        nodes.push(node);
        this.thumbs.push(canvas);
      }
      this.columns.append(column);
      this.nodes.push(nodes);
      this.names.push(nodes.map((_, i) => `layer ${n} neuron ${i + 1}`));
    });

    // Output.
    const outUnits = (this.network && this.network.output && this.network.output.units) || 1;
    const outColumn = el("div", { class: "column outputs" }, [el("div", { class: "col-head", text: "Output" })]);
    const outNodes = [];
    this.outputCanvas = null;
    for (let i = 0; i < outUnits; i++) {
      let node;
      const name = outUnits === 1 ? "Output" : `Output for class ${i}`;
      const keyable = { tabindex: "0", role: "button", "aria-label": name };
      if (outUnits === 1) {
        this.outputCanvas = el("canvas", { width: THUMB, height: THUMB, class: "thumb" });
        node = el("div", { class: "node output", title: "The network's output", ...keyable }, [this.outputCanvas]);
      } else {
        node = el("div", { class: "node output swatch", title: name, text: String(i), ...keyable });
        node.style.background = css(CLASS_COLORS[i % CLASS_COLORS.length]);
      }
      this.bindKeyboard({ node, neuron: null, k: this.nodes.length, j: i, name });
      outColumn.append(node);
      outNodes.push(node);
    }
    this.columns.append(outColumn);
    this.nodes.push(outNodes);
    this.buildEdges();
    requestAnimationFrame(() => this.layoutEdges());
  }

  /** Keyboard focus on a node: a hidden neuron shows on the big plot; the tooltip lists its inputs. */
  bindKeyboard(target) {
    const { node } = target;
    node.addEventListener("focus", () => {
      this.focus.key(target.neuron ? target : null);
      this.showIncoming(target);
    });
    node.addEventListener("blur", () => {
      this.focus.key(null);
      this.hideIncoming();
    });
    node.addEventListener("keydown", (event) => {
      if (event.key === " " || event.key === "Enter") event.preventDefault(); // no scroll, no action
    });
  }

  /** The flag of a hidden neuron target ("" when none or not a hidden neuron). */
  flagOf(target) {
    return target.neuron ? neuronFlagText(this.flags, target.neuron, this.settings) : "";
  }

  /** Hover on a flagged neuron: the tooltip explains the flag (unless the focus tooltip shows). */
  showFlag(target) {
    const text = this.flagOf(target);
    if (!text || this.tipped) return;
    this.flagged = target;
    this.tooltip.textContent = text;
    this.tooltip.classList.remove("lines");
    this.tooltip.classList.add("wrap");
    this.tooltip.hidden = false;
    this.placeTooltip(target.node);
  }

  hideFlag(target) {
    if (this.flagged !== target) return;
    this.flagged = null;
    if (this.tipped) this.showIncoming(this.tipped);
    else this.tooltip.hidden = true;
  }

  placeTooltip(node) {
    const panel = this.tooltip.offsetParent || document.body;
    const box = panel.getBoundingClientRect();
    const r = node.getBoundingClientRect();
    this.tooltip.style.left = `${r.right - box.left + 8}px`;
    this.tooltip.style.top = `${r.top - box.top}px`;
  }

  /** Choose what the edges show: "weight", "gradient" or "change". */
  setEdgeMode(mode) {
    if (!(mode in EDGE_MODES)) return;
    this.edgeMode = mode;
    this.root.dataset.edges = mode;
    this.paintEdges();
    if (this.tipped) this.showIncoming(this.tipped);
  }

  showIncoming(target) {
    this.tipped = target;
    this.flagged = null;
    this.tooltip.classList.remove("wrap");
    const sources = this.names[target.k - 1] || [];
    const mode = EDGE_MODES[this.edgeMode];
    const arrays = this.layerArrays[mode.key];
    let lines;
    if (this.edgeMode === "weight") {
      lines = incomingLines(arrays, target.k, target.j, sources, target.name);
    } else {
      const layer = arrays ? arrays[target.k - 1] : null;
      const at = (v) => (layer && v !== undefined ? formatSmall(v) : "–");
      lines = [`${target.name} (${mode.title})`, `bias ${at(layer && layer.b[target.j])}`];
      sources.forEach((source, i) => lines.push(`${source} → ${at(layer && layer.W[i * layer.units + target.j])}`));
    }
    const flag = this.flagOf(target);
    if (flag) lines.splice(1, 0, flag);
    this.tooltip.textContent = lines.join("\n");
    this.tooltip.classList.add("lines");
    this.tooltip.hidden = false;
    target.node.setAttribute("aria-describedby", this.tooltip.id);
    this.placeTooltip(target.node);
  }

  hideIncoming() {
    if (!this.tipped) return;
    this.tipped.node.removeAttribute("aria-describedby");
    this.tipped = null;
    this.tooltip.hidden = true;
    this.tooltip.classList.remove("lines");
  }

  toggleFeature(name) {
    const features = new Set(this.settings.features);
    if (features.has(name)) {
      if (features.size === 1) {
        this.on.notice("The network needs at least one input feature.");
        return;
      }
      features.delete(name);
    } else features.add(name);
    this.on.features(this.features.filter((f) => features.has(f)));
  }

  buildEdges() {
    this.svg.replaceChildren();
    this.edges = [];
    for (let k = 1; k < this.nodes.length; k++) {
      const from = this.nodes[k - 1];
      const to = this.nodes[k];
      const group = [];
      from.forEach((_, i) => {
        to.forEach((__, j) => {
          const line = document.createElementNS(SVG, "line");
          line.setAttribute("class", "edge");
          const hit = document.createElementNS(SVG, "line");
          hit.setAttribute("class", "edge-hit");
          const title = document.createElementNS(SVG, "title");
          hit.append(title);
          const edge = { line, hit, title, i, j, k };
          hit.addEventListener("mouseenter", (e) => this.showEdge(edge, e));
          hit.addEventListener("mousemove", (e) => this.moveTooltip(e));
          hit.addEventListener("mouseleave", () => {
            line.classList.remove("hover");
            if (this.tipped) this.showIncoming(this.tipped); // the focused node's list again
            else this.tooltip.hidden = true;
          });
          this.svg.append(line);
          group.push(edge);
        });
      });
      this.edges.push(group);
    }
    // Hit lines last, above all visible lines.
    for (const group of this.edges) for (const e of group) this.svg.append(e.hit);
    this.paintEdges();
  }

  layoutEdges() {
    if (!this.nodes) return;
    const box = this.root.getBoundingClientRect();
    this.svg.setAttribute("width", this.root.scrollWidth);
    this.svg.setAttribute("height", this.root.scrollHeight);
    const centres = this.nodes.map((col) => col.map((node) => {
      const r = node.getBoundingClientRect();
      return { left: r.left - box.left, right: r.right - box.left, y: r.top - box.top + r.height / 2 };
    }));
    for (const group of this.edges) {
      for (const e of group) {
        const a = centres[e.k - 1][e.i];
        const b = centres[e.k][e.j];
        for (const line of [e.line, e.hit]) {
          line.setAttribute("x1", a.right);
          line.setAttribute("y1", a.y);
          line.setAttribute("x2", b.left);
          line.setAttribute("y2", b.y);
        }
      }
    }
  }

  /** The edge's value in the chosen array (weight, gradient or change); null when unknown. */
  weight(edge, mode = this.edgeMode) {
    return edgeValue(this.layerArrays[EDGE_MODES[mode].key], edge);
  }

  /** Widths and colours of the edges by the chosen array (see edge-colors.js). */
  paintEdges() {
    const top = edgeTop(EDGE_MODES[this.edgeMode].key, this.scale);
    for (const group of this.edges) for (const e of group) paintEdge(e.line, this.weight(e), top);
  }

  describe(edge) {
    const w = this.weight(edge);
    const word = EDGE_MODES[this.edgeMode].word;
    const from = edge.k === 1 ? (this.network ? this.network.inputs[edge.i] : `input ${edge.i + 1}`) : `layer ${edge.k - 1} neuron ${edge.i + 1}`;
    const last = edge.k === this.nodes.length - 1;
    const to = last ? (this.nodes[edge.k].length > 1 ? `output ${edge.j}` : "output") : `layer ${edge.k} neuron ${edge.j + 1}`;
    const value = w === null ? "–" : this.edgeMode === "weight" ? w.toFixed(4) : formatSmall(w);
    return `${word} ${value} (${from} → ${to})`;
  }

  showEdge(edge, event) {
    const text = this.describe(edge);
    edge.title.textContent = text;
    edge.line.classList.add("hover");
    this.tooltip.textContent = text;
    this.tooltip.classList.remove("lines", "wrap");
    this.tooltip.hidden = false;
    this.moveTooltip(event);
  }

  moveTooltip(event) {
    const panel = this.tooltip.offsetParent || document.body;
    const box = panel.getBoundingClientRect();
    this.tooltip.style.left = `${event.clientX - box.left + 12}px`;
    this.tooltip.style.top = `${event.clientY - box.top + 12}px`;
  }

  /** Mark the dead and saturated hidden neurons of a frame's meta.neurons. */
  setFlags(neurons) {
    this.flags = Array.isArray(neurons) ? neurons : [];
    for (const target of this.targets || []) {
      markFlag(target, neuronFlag(this.flags, target.neuron), this.flagOf(target));
    }
  }

  /** Thumbnails, the output node and the edge weights of one frame. */
  drawFrame(frame) {
    const sizes = [this.nodes[0].length, ...this.nodes.slice(1).map((c) => c.length)];
    this.layerWeights = splitWeights(frame.weights, sizes);
    this.layerArrays = {
      weights: this.layerWeights,
      grads: frame.grads ? splitWeights(frame.grads, sizes) : null,
      changes: frame.changes ? splitWeights(frame.changes, sizes) : null,
    };
    for (const key of ["grads", "changes"]) this.scale[key] = largestKernelValue(this.layerArrays[key]);
    this.paintEdges();
    this.setFlags(frame.meta.neurons);
    if (this.tipped) this.showIncoming(this.tipped);
    else if (this.flagged) this.showFlag(this.flagged);
    const r = frame.meta.thumb;
    const lut = table("activation");
    this.thumbs.forEach((canvas, k) => {
      const bytes = frame.thumbs[k];
      if (!bytes) return;
      if (canvas.width !== r) { canvas.width = r; canvas.height = r; }
      const ctx = canvas.getContext("2d");
      ctx.putImageData(paint(ctx.createImageData(r, r), bytes, lut), 0, 0);
    });
    if (this.outputCanvas && !frame.meta.focus) {
      const R = frame.meta.grid;
      const c = this.outputCanvas;
      if (c.width !== R) { c.width = R; c.height = R; }
      const ctx = c.getContext("2d");
      ctx.putImageData(paint(ctx.createImageData(R, R), frame.grid, table(frame.meta.encoding)), 0, 0);
    }
  }
}
