/* Accessible names of the theme's header buttons (pydata-sphinx-theme 0.17), every page.
 *
 * WCAG 2.5.3 (label in name; axe's label-content-name-mismatch): a control's accessible name
 * contains the text it shows.
 * - The search field button shows "Search Ctrl+K" but is named "Search" by its aria-label:
 *   without the aria-label its name is the text it shows (its title stays as the tooltip).
 * - The colour-mode button is named "Color mode" and shows one icon titled "Light", "Dark" or
 *   "System Settings": its name says both, and follows the mode when the reader switches it.
 */
(function () {
  function modeTitle(button) {
    const mode = document.documentElement.dataset.mode || "auto";
    const icon = button.querySelector(`[data-mode="${mode}"]`);
    if (!icon) return "";
    const title = icon.querySelector("title");
    return (icon.getAttribute("title") || (title && title.textContent) || "").trim();
  }

  function fixNames() {
    document.querySelectorAll("button.search-button-field[aria-label]").forEach((button) => {
      if ((button.textContent || "").trim()) button.removeAttribute("aria-label");
    });
    document.querySelectorAll("button.theme-switch-button").forEach((button) => {
      const title = modeTitle(button);
      button.setAttribute("aria-label", title ? `Color mode: ${title}` : "Color mode");
    });
  }

  function start() {
    fixNames();
    // the mode changes on a click; fontawesome swaps the icons for SVGs after load
    new MutationObserver(fixNames).observe(document.documentElement,
                                           {attributes: true, attributeFilter: ["data-mode"]});
    document.querySelectorAll("button.theme-switch-button").forEach((button) => {
      new MutationObserver(() => {
        const title = modeTitle(button);
        const name = title ? `Color mode: ${title}` : "Color mode";
        if (button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
      }).observe(button, {childList: true, subtree: true});
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
