// Point editing on the big plot: in "Edit points" mode a click adds a point (of the picked
// class, class 1 with Shift, or the "Target value" for regression), a drag moves one, a
// right-click or the Delete key removes the selected one. Out of that mode a click on a
// training point picks it for the inspector. The server owns the data: every edit is a
// `points` message, answered by a new `data` message.

import { css, pointColor } from "./colors.js";

const X_LIMIT = 5; // the server takes coordinates within [-5, 5]
const DRAG_PX = 3; // a press that moves less than this is a click

const clamp = (v) => Math.max(-X_LIMIT, Math.min(X_LIMIT, v));
const round5 = (v) => Math.round(v * 1e5) / 1e5;

export class PointEditor {
  /**
   * @param {object} parts {plot (Plot), toggle, tools, picker, targetInput, targetField, part, counts, note, hint}
   * @param {object} on callbacks: send(message), pick(trainIndex), notice(text)
   */
  constructor(parts, on) {
    Object.assign(this, parts);
    this.on = on;
    this.editing = false;
    this.data = null;
    this.klass = 0;
    this.selected = null; // {part, index}
    this.drag = null;
    this.canvas = this.plot.canvas;
    this.toggle.addEventListener("click", () => this.setEditing(!this.editing));
    this.canvas.addEventListener("pointerdown", (e) => this.down(e));
    this.canvas.addEventListener("pointermove", (e) => this.move(e));
    this.canvas.addEventListener("pointerup", (e) => this.up(e));
    this.canvas.addEventListener("pointercancel", () => (this.drag = null));
    this.canvas.addEventListener("contextmenu", (e) => this.context(e));
    this.canvas.addEventListener("keydown", (e) => this.key(e));
  }

  setEditing(on) {
    this.editing = on;
    this.toggle.setAttribute("aria-pressed", String(on));
    this.toggle.classList.toggle("active", on);
    this.canvas.classList.toggle("editing", on);
    this.canvas.tabIndex = on ? 0 : -1;
    this.tools.hidden = !on;
    this.showHint();
    if (!on) this.select(null);
  }

  showHint() {
    const regression = this.data && this.data.task === "regression";
    this.hint.textContent = this.editing
      ? `Click: add a point${regression ? " (of the target value)" : " · Shift+click: class 1"} · drag: move · right-click or Delete: remove`
      : "Click a training point to inspect it";
  }

  /** A new `data` message: the class picker, the counts, the marks. */
  setData(data) {
    const before = this.data;
    this.data = data;
    const regression = data.task === "regression";
    this.targetField.hidden = !regression;
    this.picker.hidden = regression;
    if (!regression && (!before || before.classes !== data.classes || !this.picker.childElementCount)) {
      this.picker.replaceChildren();
      for (let k = 0; k < data.classes; k++) {
        const b = document.createElement("button");
        b.type = "button";
        const swatch = document.createElement("span");
        swatch.className = "sw";
        swatch.setAttribute("aria-hidden", "true");
        swatch.style.background = css(pointColor(k, data.classes > 2 ? "classes" : "binary", null));
        b.append(swatch, `Class ${k}`);
        b.dataset.class = String(k);
        b.addEventListener("click", () => this.setClass(k));
        this.picker.append(b);
      }
      this.setClass(Math.min(this.klass, data.classes - 1));
    }
    this.counts.textContent = `${data.train.length} train · ${data.test.length} test points`;
    this.showHint();
    if (this.selected && !(data[this.selected.part] || [])[this.selected.index]) this.select(null);
  }

  /** The settings of a `state` message: custom data gets its note. */
  setState(settings) {
    this.note.hidden = settings.dataset !== "custom";
  }

  setClass(k) {
    this.klass = k;
    for (const b of this.picker.children) b.setAttribute("aria-pressed", String(Number(b.dataset.class) === k));
  }

  select(target) {
    this.selected = target;
    this.plot.setMarks({ selected: target });
  }

  parts() {
    return this.plot.showTest ? ["train", "test"] : ["train"];
  }

  /** The target of a new point, or null (with a notice) when the value field does not read. */
  newTarget(shift) {
    if (!this.data) return null;
    if (this.data.task !== "regression") return shift ? Math.min(1, this.data.classes - 1) : this.klass;
    const v = Number(this.targetInput.value);
    if (this.targetInput.value.trim() === "" || !Number.isFinite(v)) {
      this.on.notice("Target value must be a number.");
      return null;
    }
    return v;
  }

  down(event) {
    if (event.button !== 0 || !this.data) return;
    if (!this.editing) {
      const hit = this.plot.nearest(event.clientX, event.clientY, ["train"], 12);
      if (hit) this.on.pick(hit.index);
      return;
    }
    event.preventDefault();
    this.canvas.focus();
    const hit = this.plot.nearest(event.clientX, event.clientY, this.parts(), 7);
    this.drag = { hit, x: event.clientX, y: event.clientY, moved: false, shift: event.shiftKey };
    if (hit) {
      this.select(hit);
      this.canvas.setPointerCapture(event.pointerId);
    }
  }

  move(event) {
    const drag = this.drag;
    if (!drag || !drag.hit) return;
    if (!drag.moved && Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_PX) return;
    drag.moved = true;
    const x = this.plot.toData(event.clientX, event.clientY).map(clamp);
    this.plot.movePoint(drag.hit.part, drag.hit.index, x);
  }

  up(event) {
    const drag = this.drag;
    this.drag = null;
    if (!drag || !this.editing) return;
    const x = this.plot.toData(event.clientX, event.clientY).map((v) => round5(clamp(v)));
    if (drag.hit) {
      if (drag.moved) this.on.send({ type: "points", action: "move", part: drag.hit.part, index: drag.hit.index, x });
      return;
    }
    const t = this.newTarget(drag.shift || event.shiftKey);
    if (t === null) return;
    this.on.send({ type: "points", action: "add", part: this.part.value, x, t });
  }

  context(event) {
    if (!this.editing) return;
    event.preventDefault();
    const hit = this.plot.nearest(event.clientX, event.clientY, this.parts(), 7);
    if (hit) this.remove(hit);
  }

  key(event) {
    if (!this.editing || !this.selected) return;
    if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      this.remove(this.selected);
    } else if (event.key === "Escape") {
      this.select(null);
    }
  }

  remove(target) {
    this.select(null);
    this.on.send({ type: "points", action: "delete", part: target.part, index: target.index });
  }
}
