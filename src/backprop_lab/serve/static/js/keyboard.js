// Keyboard shortcuts: Space plays and pauses, unless the focus is on a control of its own.

/** Elements for which Space already means something (type, toggle, press, open). */
const CONTROLS = [
  "input", "select", "textarea", "button", "summary", "a[href]", "[contenteditable]",
  "[role=button]", "[role=checkbox]", "[role=switch]", "[role=radio]", "[role=option]",
  "[role=slider]", "[role=menuitem]", "[role=tab]",
].join(",");

/** True when Space on `target` belongs to the browser (the focused control), not to Play. */
export function ownsSpace(target) {
  if (!(target instanceof Element) || target === document.body) return false;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  if (target.matches(CONTROLS)) return true;
  return target.hasAttribute("tabindex") && target.tabIndex >= 0;
}

/** Call `toggle()` on Space while no control has the focus (nothing, the page, a panel). */
export function bindSpace(toggle) {
  let handled = false;
  document.addEventListener("keydown", (event) => {
    if (event.code !== "Space" && event.key !== " ") return;
    if (ownsSpace(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    event.preventDefault(); // no page scroll
    handled = true;
    if (!event.repeat) toggle();
  });
  document.addEventListener("keyup", (event) => {
    if ((event.code === "Space" || event.key === " ") && handled) {
      event.preventDefault();
      handled = false;
    }
  });
}
