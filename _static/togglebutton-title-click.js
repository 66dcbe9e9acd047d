/* Clicks inside a dropdown's title (sphinx-togglebutton 0.4.5).
 *
 * sphinx-togglebutton makes the whole title of a toggled admonition clickable, but its handler
 * only recognises the title itself and the parts of its own button. sphinx-exercise puts a link
 * in a solution's title ("Solution to Exercise 28 (Derive the bound)"): a click on that link
 * reaches the handler with `button` never assigned and throws "ReferenceError: button is not
 * defined" (or, once some dropdown has been clicked, toggles that other dropdown instead).
 *
 * This listener runs first (capture phase) for every click inside such a title and keeps the
 * event from reaching the faulty handler: a click on a link only follows the link (the dropdown
 * stays as it is); any other click toggles the dropdown the title belongs to.
 */
document.addEventListener("click", (event) => {
  const target = event.target;
  const title = target instanceof Element &&
      target.closest(".admonition.toggle > .admonition-title");
  if (!title) return;
  event.stopPropagation();
  if (target.closest("a[href]")) return;
  const button = title.querySelector(".toggle-button");
  if (button && typeof toggleHidden === "function") toggleHidden(button);
}, true);
