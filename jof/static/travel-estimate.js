// The travel request form's DSA estimate, updated as the legs change.
//
// Posts the form's legs, provided nights and "Claims DSA" to /travel/estimate.json (the
// session cookie and the form's CSRF token in X-CSRFToken) and fills the estimate table
// with the answer. Text only (textContent, never innerHTML). Without JavaScript the
// "Calculate DSA estimate" button does the same on the server.
(function () {
  "use strict";
  var section = document.getElementById("dsa-estimate");
  if (!section) return;
  var form = section.closest("form");
  var token = form.querySelector('input[name="csrf_token"]');
  var status = section.querySelector('[data-testid="estimate-status"]');
  var body = section.querySelector('[data-testid="estimate-body"]');
  var tbody = section.querySelector("tbody");
  var total = section.querySelector('[data-testid="estimate-total"]');
  var advance = section.querySelector('[data-testid="estimate-advance"]');
  var LEG_FIELDS = ["origin_city", "origin_country", "destination_city", "destination_country",
                    "depart_at", "arrive_at"];
  var MARKS = ["accommodation", "breakfast", "lunch", "dinner"];
  var timer = null;
  var sent = 0;

  function value(name) {
    var el = form.elements.namedItem(name);
    return el ? el.value.trim() : "";
  }

  function checked(name) {
    var el = form.elements.namedItem(name);
    return !!(el && el.checked);
  }

  // The legs typed so far: null when a started row is not complete yet.
  function legs() {
    var out = [];
    for (var i = 0; form.elements.namedItem("legs." + i + ".origin_city"); i++) {
      var row = {};
      var filled = 0;
      LEG_FIELDS.forEach(function (f) {
        row[f] = value("legs." + i + "." + f);
        if (row[f]) filled++;
      });
      if (filled === 0) continue;
      if (filled < LEG_FIELDS.length) return null;
      out.push(row);
    }
    return out.length ? out : null;
  }

  function provisions() {
    var out = [];
    for (var i = 0; form.elements.namedItem("provisions." + i + ".from_night"); i++) {
      var first = value("provisions." + i + ".from_night");
      var last = value("provisions." + i + ".to_night");
      if (!first && !last) continue;
      var row = {from_night: first || last};
      if (last) row.to_night = last;
      MARKS.forEach(function (m) { row[m] = checked("provisions." + i + "." + m); });
      out.push(row);
    }
    return out;
  }

  function say(text) {
    section.hidden = false;
    status.textContent = text;
    status.hidden = false;
    body.hidden = true;
  }

  function cell(tag, text, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = text;
    return el;
  }

  function show(data) {
    tbody.replaceChildren();
    data.lines.forEach(function (ln) {
      var tr = document.createElement("tr");
      tr.dataset.kind = ln.kind;
      var where = cell("td", ln.location_label);
      if (ln.dates_label) {
        where.append(" ");
        where.append(cell("small", ln.dates_label, "text-body-secondary"));
      }
      tr.append(where, cell("td", ln.nights_label), cell("td", ln.rate, "text-end"),
                cell("td", ln.percentage_label, "text-end"), cell("td", ln.amount, "text-end"));
      tbody.append(tr);
    });
    total.textContent = data.total_label;
    advance.textContent = data.advance_label;
    status.hidden = true;
    body.hidden = false;
    section.hidden = false;
  }

  function messages(data) {
    var errors = (data && data.errors) || {};
    var out = [];
    Object.keys(errors).forEach(function (k) { out = out.concat(errors[k]); });
    return out.length ? out.join(" ") : section.dataset.failed;
  }

  function update() {
    var itinerary = legs();
    if (!itinerary) {
      say(section.dataset.incomplete);
      return;
    }
    var mine = ++sent;
    fetch(section.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.value : ""},
      body: JSON.stringify({legs: itinerary, provisions: provisions(), needs_dsa: checked("needs_dsa")})
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        if (mine !== sent) return;  // a later change is on its way
        if (r.ok && data) show(data);
        else say(messages(data));
      });
    }).catch(function () {
      if (mine === sent) say(section.dataset.failed);
    });
  }

  function changed(event) {
    var name = (event.target && event.target.name) || "";
    if (!/^(legs|provisions)\./.test(name) && name !== "needs_dsa") return;
    clearTimeout(timer);
    timer = setTimeout(update, 300);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
})();
