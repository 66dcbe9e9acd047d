/* Display equations fit the column on narrow screens.
 *
 * MathJax 3 does not break lines, so an equation that fits the 688 px column of a laptop can be
 * wider than a phone's ~358 px column. Rather than scroll it sideways, this scales such an
 * equation down (its font size, which MathJax's SVG output follows) just enough to fit, and no
 * further than MIN_SCALE: an equation that would need more is left at MIN_SCALE, still too wide,
 * and the browser tests report it (it must be split into aligned lines in the chapter).
 * At a laptop width the chapters' equations fit at full size and nothing changes.
 */
(function () {
  "use strict";
  var MIN_SCALE = 0.6;

  function fit(container) {
    var svg = container.querySelector(":scope > svg");
    if (!svg) return;
    container.style.fontSize = "";                 // measure at the natural size
    var natural = svg.getBoundingClientRect().width;
    var room = container.clientWidth;
    if (!natural || !room || natural <= room) return;
    // The SVG does not scale exactly with the font size (MathJax keeps some lengths fixed), so
    // scale, measure again and correct, a few times.
    var scale = 1;
    for (var i = 0; i < 8; i++) {
      var width = svg.getBoundingClientRect().width;
      if (width <= room) break;
      scale = Math.max(MIN_SCALE, Math.floor(scale * ((room - 1) / width) * 1000) / 1000);
      container.style.fontSize = (scale * 100).toFixed(1) + "%";
      if (scale === MIN_SCALE) break;
    }
  }

  function fitAll() {
    var all = document.querySelectorAll('mjx-container[jax="SVG"][display="true"]');
    for (var i = 0; i < all.length; i++) fit(all[i]);
  }

  function start() {
    fitAll();
    var article = document.querySelector(".bd-article") || document.body;
    if (window.ResizeObserver) {
      new ResizeObserver(fitAll).observe(article);
      // An equation inside a closed dropdown (a solution) has no width until it is opened:
      // each container is watched, and fitted when its width changes.
      var each = new ResizeObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) fit(entries[i].target);
      });
      var all = document.querySelectorAll('mjx-container[jax="SVG"][display="true"]');
      for (var i = 0; i < all.length; i++) each.observe(all[i]);
    } else {
      window.addEventListener("resize", fitAll);
    }
    document.addEventListener("toggle", fitAll, true);   // <details> opened or closed
  }

  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(start);
    } else if (document.querySelector("div.math, span.math")) {
      setTimeout(whenTypeset, 50);                  // MathJax not loaded yet
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", whenTypeset);
  } else {
    whenTypeset();
  }
})();
