// The numbers under the plot and the epoch counter, formatted so tests can parse them:
// losses with 4 decimals ("0.4123"), accuracies as percent with 1 decimal ("81.2%").

const $ = (id) => document.getElementById(id);

/** "0.4123"; "–" when unknown; "NaN"/"∞" when the run diverged. */
export function formatLoss(v) {
  if (v === null || v === undefined) return "–";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return "∞";
  return v.toFixed(4);
}

/** 0.8123 -> "81.2%". */
export function formatPercent(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return `${(100 * v).toFixed(1)}%`;
}

export function formatR2(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return v.toFixed(3);
}

/** Show accuracy and baseline (classification) or R² (regression). */
export function setTask(task) {
  $("accuracy-row").hidden = task === "regression";
  $("r2-row").hidden = task !== "regression";
  $("chart-metric").textContent = task === "regression" ? "test R²" : "test accuracy";
}

export function setBaseline(baseline, task) {
  if (task === "regression") $("r2-baseline").textContent = formatR2(baseline ?? 0);
  else $("baseline").textContent = formatPercent(baseline);
}

/** The readouts of one frame's meta. */
export function showMeta(meta, task) {
  $("epoch").textContent = String(meta.epoch);
  $("batch-readout").textContent =
    meta.batch > 0 ? `+ batch ${meta.batch}/${meta.steps_per_epoch}` : "";
  $("train-loss").textContent = formatLoss(meta.train_loss);
  $("test-loss").textContent = formatLoss(meta.test_loss);
  $("test-accuracy").textContent = formatPercent(meta.test_accuracy);
  $("r2").textContent = formatR2(meta.r2);
  if (meta.baseline !== undefined && meta.baseline !== null) setBaseline(meta.baseline, task);
}
