// The playground page: reads the URL, talks to the server, and keeps every view in step.

import { Chart } from "./chart.js";
import { Controls } from "./controls.js";
import { frameSeq, parseFrame } from "./frame.js";
import { bindSpace } from "./keyboard.js";
import { drawLegend } from "./legend.js";
import { NetworkView } from "./network.js";
import { Plot } from "./plot.js";
import { setBaseline, setTask, showMeta } from "./readouts.js";
import { connect } from "./socket.js";
import { SERVER_KEYS, readQuery, syncUrl } from "./url.js";

const $ = (id) => document.getElementById(id);
const query = readQuery(window.location.search);
const page = { discretize: query.page.discretize ?? false, test: query.page.test ?? false };
let defaults = null;
let state = null;
let task = "classification";
let chartRun = null;
let pending = null;
let drawScheduled = false;
let busy = false;
let errors = []; // the errors shown since the user last acted, oldest first

const plot = new Plot($("plot"));
const chart = new Chart($("chart"));

/** Show a line in the status bar; `source` "server" marks the server's own words. */
function status(message, kind = "info", source = "page") {
  const line = $("status");
  if (kind !== "error") errors = [];
  line.textContent = message;
  line.dataset.kind = kind;
  line.dataset.source = message ? source : "";
  line.classList.toggle("error", kind === "error");
}

/** Show an error; it joins those still shown (until the user acts), e.g. several refused URL values. */
function showError(message, source = "page") {
  if (!errors.includes(message)) errors = [...errors, message].slice(-6);
  status(errors.join(" · "), "error", source);
}

function send(message) {
  if (!socket.send(message)) showError("Not connected to the server.");
}

/** A new action of the user: the last error no longer applies. */
function act(message) {
  if ($("status").dataset.kind === "error" && !busy) status("");
  send(message);
}

function sendSettings(settings) {
  act({ type: "settings", settings });
}

const controls = new Controls({
  send: sendSettings,
  notice: (text, error) => (error ? showError(text) : status(text)),
});

const network = new NetworkView(
  {
    root: $("network"), columns: $("columns"), svg: $("edges"), tooltip: $("tooltip"),
    addLayer: $("add-layer"), removeLayer: $("remove-layer"), layerCount: $("layer-count"),
    layersNote: $("layers-note"),
  },
  {
    features: (features) => sendSettings({ features }),
    layers: (layers) => sendSettings({ layers }),
    focus: (neuron) => send({ type: "focus", neuron }),
    notice: (text) => status(text),
  },
);

function setPlaying(playing) {
  const button = $("play");
  button.querySelector(".label").textContent = playing ? "Pause" : "Play";
  button.querySelector(".icon").textContent = playing ? "❚❚" : "▶";
  button.setAttribute("aria-pressed", String(playing));
  button.dataset.playing = playing ? "1" : "0";
}

function togglePlay() {
  const playing = $("play").dataset.playing === "1";
  act({ type: playing ? "pause" : "play" });
  setPlaying(!playing); // the server's state confirms it
}

// ----- page-only options -----
const showTest = $("show-test");
const discretize = $("discretize");
showTest.checked = page.test;
discretize.checked = page.discretize;
plot.setOptions({ showTest: page.test, discretize: page.discretize });
for (const [box, key] of [[showTest, "test"], [discretize, "discretize"]]) {
  box.addEventListener("change", () => {
    page[key] = box.checked;
    plot.setOptions({ showTest: page.test, discretize: page.discretize });
    if (state) syncUrl(state.settings, page);
  });
}

// ----- buttons -----
$("play").addEventListener("click", togglePlay);
$("step").addEventListener("click", () => act({ type: "step", unit: "epoch" }));
$("batch").addEventListener("click", () => act({ type: "step", unit: "batch" }));
$("reset").addEventListener("click", () => act({ type: "reset" }));
bindSpace(togglePlay);

// ----- messages -----
function onHello(msg) {
  defaults = msg.defaults || {};
  controls.setChoices(msg.choices);
  controls.setLimits(msg.limits);
  const choices = msg.choices || {};
  network.setLimits(msg.limits, choices.activation, choices.features);
  const settings = {};
  for (const key of SERVER_KEYS) {
    if (key in query.settings) settings[key] = query.settings[key];
    else if (key in defaults) settings[key] = defaults[key];
  }
  if (query.bad.length) showError(`Ignored unreadable URL values: ${query.bad.join(", ")}.`);
  else status("Connected.");
  send({ type: "settings", settings });
}

function onState(msg) {
  state = msg;
  document.body.dataset.run = String(msg.run);
  controls.set(msg.settings);
  network.setState(msg.settings, msg.network);
  setPlaying(msg.playing);
  setBaseline(msg.baseline, task);
  syncUrl(msg.settings, page);
  $("engine").textContent = msg.engine ? `engine: ${msg.engine}` : "";
}

function onData(msg) {
  task = msg.task;
  setTask(task);
  plot.setData(msg);
  network.setExtent(msg.extent);
  drawLegend($("legend"), msg);
}

function onMessage(msg) {
  switch (msg.type) {
    case "hello": onHello(msg); break;
    case "state": onState(msg); break;
    case "data": onData(msg); break;
    case "status":
      // An empty status clears the line, but not an error the user has not acted on yet.
      if (msg.message || $("status").dataset.kind !== "error") status(msg.message || "", "info", "server");
      break;
    case "error":
      // Also a refused first settings message: the server then applies what it could, and its
      // `state` brings the controls and the URL in line; the error stays until the user acts.
      showError(msg.message, "server");
      controls.restore();
      if (state) {
        network.setState(state.settings, state.network);
        setPlaying(state.playing); // e.g. "play" refused after a divergence
      }
      break;
    case "busy":
      busy = true;
      status(msg.message || "The server is busy.", "error", "server");
      break;
    default: break;
  }
}

/** Acknowledge frame `seq` so the server sends the next (quietly: no socket, no frames). */
function ack(seq) {
  socket.send({ type: "ack", seq });
}

function draw() {
  drawScheduled = false;
  const frame = pending;
  pending = null;
  if (!frame) return;
  const meta = frame.meta;
  try {
    if (meta.run !== chartRun) {
      chart.clear();
      chartRun = meta.run;
    }
    plot.drawFrame(frame);
    network.drawFrame(frame);
    showMeta(meta, task); // playing comes from `state` only: a frame may predate a pause
    $("plot-what").textContent = meta.focus ? `· layer ${meta.focus[0] + 1}, neuron ${meta.focus[1] + 1}` : "";
    const x = meta.epoch + (meta.steps_per_epoch ? meta.batch / meta.steps_per_epoch : 0);
    chart.add(x, meta.train_loss, meta.test_loss, task === "regression" ? meta.r2 : meta.test_accuracy);
  } catch (e) {
    showError(`Could not draw a frame: ${e.message}`);
  } finally {
    ack(meta.seq); // one bad frame must not stop the next ones
  }
}

function onFrame(buffer) {
  try {
    pending = parseFrame(buffer);
  } catch (e) {
    const seq = frameSeq(buffer);
    if (seq !== null) ack(seq);
    const after = seq === null ? "; no further frames can come, reload the page" : "";
    showError(`Could not read a frame: ${e.message}${after}`);
    return;
  }
  if (!drawScheduled) {
    drawScheduled = true;
    requestAnimationFrame(draw);
  }
}

const socket = connect({
  onMessage,
  onFrame,
  onOpen: () => status("Connected, waiting for the server…"),
  onClose: () => {
    // Keep the server's last words (e.g. why it closed an idle tab), then say we are cut off.
    const line = $("status");
    const text = line.textContent.trim();
    if (busy) {
      // the busy message already says it all
    } else if (line.dataset.source === "server" && text) {
      status(`${text.replace(/[.;\s]+$/, "")}. Disconnected from the server.`, "error", "server");
    } else {
      status("Disconnected from the server. Reload the page to reconnect.", "error");
    }
    setPlaying(false);
  },
});
