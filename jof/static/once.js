// Once-only submission in the browser: a form that posts is sent once.
//
// After the first submit its buttons are disabled (and the form marked aria-busy) until
// the next page arrives, and any further submit of it is dropped. The buttons are disabled
// a tick after the submit, once the browser has collected the form data: a button
// disabled earlier would drop its own name and value (several forms send "action" that
// way). The server does not rely on this: every form also carries a one-time token
// (jof/core/once.py), which covers a browser without JavaScript.
(function () {
  "use strict";
  var REENABLE_AFTER_MS = 15000; // a download keeps the page: let the form be used again

  function buttons(form) {
    return form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]');
  }

  function release(form) {
    delete form.dataset.sent;
    form.removeAttribute("aria-busy");
    buttons(form).forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-disabled");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) return; // another script sends it itself
    form.dataset.sent = "1";
    window.setTimeout(function () {
      form.setAttribute("aria-busy", "true");
      buttons(form).forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-disabled", "true");
      });
    }, 0);
    window.setTimeout(function () { release(form); }, REENABLE_AFTER_MS);
  });

  // Back to a page kept in the browser's cache: its forms may be used again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(release);
  });
})();
