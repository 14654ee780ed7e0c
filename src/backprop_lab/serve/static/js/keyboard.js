// Keyboard shortcuts: Space plays and pauses, except while typing in a field or in a select.

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === "SELECT" || target.tagName === "TEXTAREA") return true;
  if (target.tagName !== "INPUT") return false;
  return !["button", "checkbox", "radio", "range", "submit", "reset", "color"].includes(target.type);
}

/** Call `toggle()` on Space anywhere on the page but in text/number inputs and selects. */
export function bindSpace(toggle) {
  let handled = false;
  document.addEventListener("keydown", (event) => {
    if (event.code !== "Space" && event.key !== " ") return;
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    // Also on a focused button: Space means play/pause here, not "press this button".
    event.preventDefault();
    handled = true;
    if (!event.repeat) toggle();
  });
  document.addEventListener("keyup", (event) => {
    if ((event.code === "Space" || event.key === " ") && handled) {
      event.preventDefault(); // a button clicks on Space's keyup: not this time
      handled = false;
    }
  });
}
