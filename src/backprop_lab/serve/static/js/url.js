// The page's state in the URL query: parse it into typed settings, and write settings back.

export const SERVER_KEYS = [
  "dataset", "classes", "points", "noise", "test_ratio", "features", "layers",
  "regularization", "reg_rate", "optimizer", "lr", "batch_size", "loss", "speed", "seed", "weights",
];
const INTEGERS = new Set(["classes", "points", "batch_size", "seed", "weights"]);
const NUMBERS = new Set(["noise", "test_ratio", "reg_rate", "lr", "speed"]);
export const PAGE_KEYS = ["discretize", "test"];
/** Page-only keys kept as text: the classroom's challenge id and the controls it hides, and
 * the compared run B's one change ("lr:0.1", compare.js). */
export const TEXT_PAGE_KEYS = ["challenge", "hide", "compare"];

/** "8:relu,4:tanh" -> [{units: 8, activation: "relu"}, ...]; null when malformed. */
export function parseLayers(text) {
  if (text.trim() === "") return [];
  const layers = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?::\s*([a-z_]+))?\s*$/.exec(part);
    if (!m) return null;
    layers.push({ units: Number(m[1]), activation: m[2] || "relu" });
  }
  return layers;
}

/** [{units, activation}] -> "8:relu,4:tanh". */
export function formatLayers(layers) {
  return layers.map((l) => `${l.units}:${l.activation}`).join(",");
}

/** One URL value -> its typed setting, or undefined when it does not parse. */
function parseValue(key, text) {
  if (key === "features") {
    const list = text.split(",").map((s) => s.trim()).filter(Boolean);
    return list.length ? list : undefined;
  }
  if (key === "layers") return parseLayers(text) ?? undefined;
  if (INTEGERS.has(key)) return /^\d+$/.test(text.trim()) ? Number(text) : undefined;
  if (NUMBERS.has(key)) {
    const v = Number(text);
    return text.trim() !== "" && Number.isFinite(v) ? v : undefined;
  }
  return text;
}

/**
 * The settings and page options in a query string.
 * @returns {{settings: object, page: object, bad: string[]}} bad: keys whose value did not parse.
 */
export function readQuery(search) {
  const params = new URLSearchParams(search);
  const settings = {};
  const page = {};
  const bad = [];
  for (const key of SERVER_KEYS) {
    if (!params.has(key)) continue;
    const v = parseValue(key, params.get(key));
    if (v === undefined) bad.push(key);
    else settings[key] = v;
  }
  for (const key of PAGE_KEYS) if (params.has(key)) page[key] = params.get(key) === "1";
  for (const key of TEXT_PAGE_KEYS) if (params.has(key)) page[key] = params.get(key);
  return { settings, page, bad };
}

function encode(value) {
  return encodeURIComponent(value).replace(/%2C/gi, ",").replace(/%3A/gi, ":");
}

/** The query string of all settings plus the page options, e.g. "?dataset=circle&...". */
export function writeQuery(settings, page) {
  const parts = [];
  for (const key of SERVER_KEYS) {
    if (!(key in settings)) continue;
    let v = settings[key];
    if (key === "features") v = v.join(",");
    else if (key === "layers") v = formatLayers(v);
    parts.push(`${key}=${encode(String(v))}`);
  }
  for (const key of PAGE_KEYS) if (key in page) parts.push(`${key}=${page[key] ? 1 : 0}`);
  for (const key of TEXT_PAGE_KEYS) if (page[key]) parts.push(`${key}=${encode(page[key])}`);
  return "?" + parts.join("&");
}

/** Keep the address bar in sync without adding history entries. */
export function syncUrl(settings, page) {
  const query = writeQuery(settings, page);
  if (query !== window.location.search) {
    window.history.replaceState(null, "", window.location.pathname + query);
  }
}
