// The playground page: reads the URL, talks to the server, and keeps every view in step.

import { Chart } from "./chart.js";
import { CHALLENGES, Challenge, hideControls, hideList } from "./classroom.js";
import { Controls } from "./controls.js";
import { DivergencePanel, formatRate } from "./divergence.js";
import { frameSeq, parseFrame } from "./frame.js";
import { bindSpace } from "./keyboard.js";
import { drawLegend } from "./legend.js";
import { NetworkView } from "./network.js";
import { Plot } from "./plot.js";
import { setBaseline, setTask, showMeta } from "./readouts.js";
import { connect } from "./socket.js";
import { Timeline } from "./timeline.js";
import { SERVER_KEYS, readQuery, syncUrl } from "./url.js";
import { CsvFiles } from "./csvfile.js";
import { PointEditor } from "./editing.js";
import { ExportMenu } from "./exporting.js";
import { Inspector } from "./inspector.js";
import { Compare } from "./compare.js";
import { LandscapePanel } from "./landscape.js";

const $ = (id) => document.getElementById(id);
const query = readQuery(window.location.search);
const page = { discretize: query.page.discretize ?? false, test: query.page.test ?? false };
if (query.page.challenge) page.challenge = query.page.challenge;
if (query.page.hide) page.hide = query.page.hide;
if (query.page.compare) page.compare = query.page.compare;
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

/** Play, pause, step or reset: run A, and run B while comparing (compare.js). */
function drive(message) {
  act(message);
  compare.follow(message);
}

function togglePlay() {
  const playing = $("play").dataset.playing === "1";
  drive({ type: playing ? "pause" : "play" });
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
$("step").addEventListener("click", () => drive({ type: "step", unit: "epoch" }));
$("batch").addEventListener("click", () => drive({ type: "step", unit: "batch" }));
$("reset").addEventListener("click", () => drive({ type: "reset" }));
$("new-weights").addEventListener("click", () => {
  // 0 is the weights `backprop-lab train --seed S` draws; any other value, other weights.
  const weights = 1 + (crypto.getRandomValues(new Uint32Array(1))[0] % 4294967295);
  sendSettings({ weights });
});
$("edge-mode").addEventListener("change", () => network.setEdgeMode($("edge-mode").value));

// ----- timeline, divergence, classroom (issue 14) -----
const timeline = new Timeline(
  { root: $("timeline"), slider: $("timeline-slider"), readout: $("timeline-epoch") },
  (index) => act({ type: "seek", index }),
);
const divergence = new DivergencePanel(
  {
    root: $("divergence"), message: $("divergence-message"), details: $("divergence-details"),
    rewind: $("rewind"), dismiss: $("divergence-dismiss"),
  },
  (info) => {
    act({ type: "rewind" });
    status(`Rewound to the last good state; the learning rate is now ${formatRate(info.suggested_lr)}.`);
  },
);
let challenge = null;
let challengeNote = "";
if (page.challenge && page.challenge in CHALLENGES) {
  challenge = new Challenge(
    { root: $("challenge"), goal: $("challenge-goal"), progress: $("challenge-progress"), done: $("challenge-met") },
    page.challenge,
  );
} else if (page.challenge) {
  challengeNote = `Unknown challenge ${JSON.stringify(page.challenge)}; known: ${Object.keys(CHALLENGES).join(", ")}.`;
}
const unknownHidden = hideControls(hideList(page.hide));
if (unknownHidden.length) challengeNote += ` hide= names no control: ${unknownHidden.join(", ")}.`;
bindSpace(togglePlay);

// ----- own data, CSV, export, the backprop inspector (issue 14) -----
const inspector = new Inspector(
  {
    panel: $("inspector"), body: $("inspector-body"), what: $("inspector-what"),
    phases: [...$("inspector").querySelectorAll("[data-phase]")], next: $("inspect-next"),
    batch: $("inspect-batch"), close: $("inspect-close"), open: $("inspect-open"), number: $("inspect-index"),
  },
  {
    send: act,
    mark: (index, rows = null) => plot.setMarks({ inspected: index, batch: rows }),
    nodes: () => network.nodes,
  },
);
const editor = new PointEditor(
  {
    plot, toggle: $("edit-points"), tools: $("edit-tools"), picker: $("class-picker"), targetInput: $("target-value"),
    targetField: $("target-field"), part: $("add-to"), counts: $("point-counts"),
    note: $("custom-note"), hint: $("edit-hint"),
  },
  { send: act, pick: (index) => inspector.pick(index), notice: (text) => showError(text) },
);
const csvFiles = new CsvFiles(
  { upload: $("upload-csv"), download: $("download-csv"), note: $("upload-note") },
  { send: act, dataset: () => (state ? state.settings.dataset : "data") },
);
const exportMenu = new ExportMenu(
  { buttons: $("export-buttons"), text: $("export-text"), copy: $("export-copy"), result: $("export-result") },
  { send: act },
);

// ----- compare two runs (issue 14): run B is a second session with one setting changed -----
const compare = new Compare(
  {
    panel: $("compare"), open: $("compare-open"), key: $("compare-key"), value: $("compare-value"),
    choices: $("compare-choices"), start: $("compare-start"), close: $("compare-close"),
    plot: $("compare-plot"), legend: $("compare-legend"), trainLoss: $("compare-train-loss"),
    testLoss: $("compare-test-loss"), epoch: $("compare-epoch"), note: $("compare-note"),
  },
  {
    chart,
    changed: (text) => {
      if (text) page.compare = text;
      else delete page.compare;
      if (state) syncUrl(state.settings, page);
    },
  },
);
if (page.compare && !compare.restore(page.compare)) compare.note(`compare= names no comparison: ${page.compare}.`);

// ----- the loss landscape (issue 14): computed on the server on request -----
const landscape = new LandscapePanel(
  {
    panel: $("landscape"), open: $("landscape-open"), close: $("landscape-close"),
    canvases: [$("landscape-random"), $("landscape-pca")],
    titles: [$("landscape-random-title"), $("landscape-pca-title")],
    caption: $("landscape-caption"), scale: $("landscape-scale"),
  },
  { send: act },
);

// ----- messages -----
function onHello(msg) {
  defaults = msg.defaults || {};
  controls.setChoices(msg.choices);
  controls.setLimits(msg.limits);
  csvFiles.setLimits(msg.limits);
  compare.setChoices(msg.choices);
  const choices = msg.choices || {};
  network.setLimits(msg.limits, choices.activation, choices.features);
  const settings = {};
  const start = challenge ? challenge.preset.start : {};
  for (const key of SERVER_KEYS) {
    if (key in query.settings) settings[key] = query.settings[key];
    else if (key in start) settings[key] = start[key];
    else if (key in defaults) settings[key] = defaults[key];
  }
  if (query.bad.length) showError(`Ignored unreadable URL values: ${query.bad.join(", ")}.`);
  else if (challengeNote) showError(challengeNote.trim());
  else status("Connected.");
  send({ type: "settings", settings });
}

function onState(msg) {
  if (state && msg.run !== state.run) divergence.hide(); // Reset or a new network: moot
  state = msg;
  document.body.dataset.run = String(msg.run);
  controls.set(msg.settings);
  network.setState(msg.settings, msg.network);
  editor.setState(msg.settings);
  inspector.setInputs(msg.network && msg.network.inputs);
  setPlaying(msg.playing);
  if (msg.playing) divergence.hide(); // training on: the divergence is behind us
  setBaseline(msg.baseline, task);
  syncUrl(msg.settings, page);
  compare.setBase(msg.settings);
  $("engine").textContent = msg.engine ? `engine: ${msg.engine}` : "";
}

function onData(msg) {
  task = msg.task;
  setTask(task);
  plot.setData(msg);
  network.setExtent(msg.extent);
  drawLegend($("legend"), msg);
  editor.setData(msg);
  csvFiles.setData(msg);
  inspector.setData(msg);
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
    case "diverged":
      divergence.show(msg);
      break;
    case "error":
      timeline.clear(); // e.g. a refused seek: the slider follows the frames again
      // Also a refused first settings message: the server then applies what it could, and its
      // `state` brings the controls and the URL in line; the error stays until the user acts.
      showError(msg.message, "server");
      csvFiles.error(msg.message); // an upload or export on its way shows its own refusal too
      exportMenu.error(msg.message);
      landscape.error(); // its refusal: the button comes back
      controls.restore();
      if (state) {
        network.setState(state.settings, state.network);
        setPlaying(state.playing); // e.g. "play" refused after a divergence
      }
      break;
    case "inspection":
      if (msg.scope === null) {
        inspector.closedByServer();
        status(msg.message || "");
      } else inspector.receive(msg);
      break;
    case "export": exportMenu.reply(msg); break;
    case "landscape": landscape.receive(msg); break;
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
    timeline.update(meta);
    if (challenge && state) challenge.check(meta, state.settings);
    network.drawFrame(frame);
    showMeta(meta, task); // playing comes from `state` only: a frame may predate a pause
    $("plot-what").textContent = meta.focus ? `· layer ${meta.focus[0] + 1}, neuron ${meta.focus[1] + 1}` : "";
    const x = meta.epoch + (meta.steps_per_epoch ? meta.batch / meta.steps_per_epoch : 0);
    // A past moment of the timeline keeps the chart as it is; training on from it trims the tail.
    const past = Number.isInteger(meta.snapshot);
    if (!past) chart.add(x, meta.train_loss, meta.test_loss, task === "regression" ? meta.r2 : meta.test_accuracy);
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
