// The data as CSV (the CLI's format: x1,x2,label): upload a file to the server, download the
// points of the last `data` message. Nothing here touches the server's disk.

/** The largest upload the server takes (bytes of text); the page checks it first. */
export const MAX_UPLOAD_BYTES = 512 * 1024;

/**
 * The CSV text of a `data` message: a header, then every training and test point.
 * @param {{train: number[][], test: number[][], task: string}} data
 * @returns {string}
 */
export function toCsv(data) {
  const label = (t) => (data.task === "regression" ? String(t) : String(Math.round(t)));
  const lines = ["x1,x2,label"];
  for (const part of [data.train, data.test]) for (const p of part) lines.push(`${p[0]},${p[1]},${label(p[2])}`);
  return lines.join("\n") + "\n";
}

/** Let the browser save a Blob under `name`. */
export function saveBlob(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The bytes of a base64 text. */
export function fromBase64(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export class CsvFiles {
  /**
   * @param {object} parts {upload (input type=file), download (button), note (the upload's line)}
   * @param {object} on callbacks: send(message), dataset() the current dataset name
   */
  constructor(parts, on) {
    Object.assign(this, parts);
    this.on = on;
    this.data = null;
    this.waiting = false;
    this.maxBytes = MAX_UPLOAD_BYTES;
    this.upload.addEventListener("change", () => this.read());
    this.download.addEventListener("click", () => this.save());
    this.download.disabled = true;
  }

  /** The server's limits (hello): the largest upload it takes. */
  setLimits(limits) {
    if (limits && Number.isInteger(limits.max_upload_bytes)) this.maxBytes = limits.max_upload_bytes;
  }

  setData(data) {
    this.data = data;
    this.download.disabled = false;
    if (this.waiting) this.say(`Uploaded: ${data.train.length} train and ${data.test.length} test points.`);
    this.waiting = false;
  }

  /** A server error while an upload is on its way is that upload's. */
  error(message) {
    if (!this.waiting) return;
    this.waiting = false;
    this.say(message, true);
  }

  say(text, error = false) {
    this.note.textContent = text;
    this.note.classList.toggle("error", error);
  }

  async read() {
    const file = this.upload.files && this.upload.files[0];
    if (!file) return;
    this.upload.value = ""; // the same file may be chosen again
    if (file.size > this.maxBytes) {
      const kib = Math.ceil(file.size / 1024);
      this.say(`${file.name} is ${kib} KiB; the playground takes at most ${Math.floor(this.maxBytes / 1024)} KiB.`, true);
      return;
    }
    let text;
    try {
      text = await file.text();
    } catch (e) {
      this.say(`Could not read ${file.name}: ${e.message}`, true);
      return;
    }
    this.waiting = true;
    this.say(`Uploading ${file.name}…`);
    this.on.send({ type: "upload", csv: text });
  }

  save() {
    if (!this.data) return;
    const name = `${this.on.dataset() || "data"}.csv`;
    saveBlob(name, new Blob([toCsv(this.data)], { type: "text/csv" }));
  }
}
