// The export menu: the command and TOML config that reproduce the run (shown, with Copy), the
// model files (safetensors + JSON, .keras: downloaded), and "Save as run folder" (on the server).

import { fromBase64, saveBlob } from "./csvfile.js";

const WHAT = {
  command: "Command", toml: "TOML config", safetensors: "Model (safetensors + JSON)",
  keras: ".keras file", run: "Save as run folder",
};

export class ExportMenu {
  /**
   * @param {object} parts {menu (details), buttons (container), text (textarea), copy (button), result}
   * @param {object} on callbacks: send(message)
   */
  constructor(parts, on) {
    Object.assign(this, parts);
    this.on = on;
    this.waiting = null;
    for (const [what, label] of Object.entries(WHAT)) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.what = what;
      b.addEventListener("click", () => this.ask(what));
      this.buttons.append(b);
    }
    this.copy.addEventListener("click", () => this.copyText());
    this.showText(null);
  }

  ask(what) {
    this.waiting = what;
    this.say(what === "run" ? "Writing the run folder on the server…" : `Asking the server for the ${WHAT[what]}…`);
    this.on.send({ type: "export", what });
  }

  say(text, error = false) {
    this.result.textContent = text;
    this.result.classList.toggle("error", error);
  }

  showText(text) {
    this.text.hidden = text === null;
    this.copy.hidden = text === null;
    this.text.value = text || "";
  }

  /** A server error while an export is on its way is that export's. */
  error(message) {
    if (!this.waiting) return;
    this.waiting = null;
    this.say(message, true);
  }

  /** The server's `export` reply. */
  reply(msg) {
    this.waiting = null;
    const what = msg.what;
    if (what === "command" || what === "toml") {
      if (typeof msg.text === "string") {
        this.showText(msg.text);
        this.say(what === "command" ? "Run this to train the same network:" : "The run as a TOML config:");
      } else {
        this.showText(null);
        this.say(`No ${WHAT[what]} for this run: ${msg.reason || "it cannot be expressed"}`, true);
      }
    } else if (what === "run") {
      this.showText(null);
      this.say(`Saved the run folder ${msg.folder} (in the server's output folder).`);
      this.result.dataset.folder = msg.folder || "";
    } else if (Array.isArray(msg.files)) {
      for (const f of msg.files) {
        const body = typeof f.base64 === "string" ? fromBase64(f.base64) : String(f.text ?? "");
        const type = typeof f.base64 === "string" ? "application/octet-stream" : "application/json";
        saveBlob(f.name, new Blob([body], { type }));
      }
      this.showText(null);
      this.say(`Downloaded ${msg.files.map((f) => f.name).join(" and ")}.`);
    }
  }

  async copyText() {
    this.text.select();
    try {
      await navigator.clipboard.writeText(this.text.value);
      this.say("Copied.");
    } catch {
      document.execCommand("copy");
      this.say("Copied (selected text).");
    }
  }
}
