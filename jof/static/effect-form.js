// The new-decision form: the chosen kind's sub-form shown at once, and the cost-sharing
// key's shares previewed as the percentages and weights are typed.
//
// Without JavaScript the "Show the fields for this kind" and "Update the preview" buttons
// re-render the page on the server; this script only does the same sooner. The preview
// comes from /governance/decisions/key-preview.json (the same allocation the server
// records). Text only (textContent, never innerHTML).
(function () {
  "use strict";
  var form = document.getElementById("decision-form");
  if (!form) return;
  var kind = form.elements.namedItem("kind");
  var sets = form.querySelectorAll("fieldset[data-effect]");
  // The server-side buttons are not needed with the script; removing them keeps "Save
  // draft" the button that Enter presses.
  form.querySelectorAll('button[name="action"][value="choose"]').forEach(function (b) { b.remove(); });

  function show() {
    sets.forEach(function (set) { set.hidden = set.getAttribute("data-effect") !== kind.value; });
  }
  kind.addEventListener("change", function () { show(); preview(); });

  var section = document.getElementById("key-preview");
  var timer = null;
  var sent = 0;

  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function render(answer) {
    var body = section.querySelector('[data-testid="preview-shares"]');
    var notes = section.querySelector('[data-testid="preview-notes"]');
    var total = section.querySelector('[data-testid="preview-total"]');
    body.textContent = "";
    notes.textContent = "";
    answer.shares.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(s.code));
      tr.appendChild(cell(s.percent + " %", "text-end"));
      body.appendChild(tr);
    });
    answer.errors.forEach(function (m) {
      var li = document.createElement("li");
      li.textContent = m;
      notes.appendChild(li);
    });
    total.textContent = answer.shares.length ? answer.total + " %" : "";
  }

  function preview() {
    if (!section || kind.value !== "cost_sharing_key") return;
    var params = new URLSearchParams();
    form.querySelectorAll(".jof-key-input").forEach(function (input) {
      if (input.value.trim()) params.append(input.name, input.value.trim());
    });
    var mine = ++sent;
    fetch(section.getAttribute("data-url") + "?" + params.toString(), {credentials: "same-origin",
      headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (answer) { if (mine === sent) render(answer); })
      .catch(function () { /* the "Update the preview" button still works */ });
  }

  if (section) {
    section.parentNode.addEventListener("input", function (event) {
      if (!event.target.classList.contains("jof-key-input")) return;
      clearTimeout(timer);
      timer = setTimeout(preview, 250);
    });
  }

  var add = document.getElementById("add-price-row");
  var table = document.getElementById("price-rows");
  if (add && table) {
    add.type = "button";
    add.addEventListener("click", function (event) {
      var rows = table.tBodies[0].rows;
      var last = rows[rows.length - 1];
      if (!last) return;
      event.preventDefault();
      var n = rows.length;
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input, select").forEach(function (el) {
        el.name = el.name.replace(/^item-\d+-/, "item-" + n + "-");
        var label = el.getAttribute("aria-label");
        if (label) el.setAttribute("aria-label", label.replace(/\d+/, String(n + 1)));
        el.classList.remove("is-invalid");
        if (el.type === "checkbox") el.checked = false;
        else if (el.tagName === "SELECT") el.selectedIndex = 0;
        else el.value = "";
      });
      copy.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
      table.tBodies[0].appendChild(copy);
    });
  }
  show();
})();
