/* JOF's page behaviour that Bootstrap does not give (served from 'self', as the
   Content-Security-Policy requires; no inline script anywhere).

   A table wider than the screen scrolls inside its .table-responsive wrapper (docs/ui.md).
   A keyboard user can scroll only a region that takes focus (WCAG 2.1.1; axe-core's
   scrollable-region-focusable), so a wrapper is focusable while, and only while, it scrolls. */
(function () {
  "use strict";
  function markScrollingTables() {
    document.querySelectorAll(".table-responsive").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth) {
        el.setAttribute("tabindex", "0");
      } else if (el.getAttribute("tabindex") === "0") {
        el.removeAttribute("tabindex");
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markScrollingTables);
  } else {
    markScrollingTables();
  }
  window.addEventListener("resize", markScrollingTables);
})();
