// The requisition form's lines: add and remove rows, and show each line's total and the
// estimated total, in each currency used and in USD, as the person types.
//
// The rates are this month's operational rates the page carries (local units per USD).
// The figures are a preview: the server computes the estimate exactly when the form is
// saved. Without JavaScript, "Add a line" asks the server for one more row and an empty
// row is dropped on saving. Text only (textContent, never innerHTML).
(function () {
  "use strict";
  var form = document.getElementById("requisition-form");
  if (!form) return;
  var rates = JSON.parse(form.getAttribute("data-rates") || "{}");
  var tbody = form.querySelector('[data-testid="line-rows"] tbody');
  var totalCell = form.querySelector('[data-testid="live-total"]');
  var lang = document.documentElement.lang || "en";

  function number(text) {
    // Accept "1,234.50" and "1.234,50": the last separator is the decimal one.
    text = (text || "").trim().replace(/\s/g, "");
    if (!text) return NaN;
    var lastComma = text.lastIndexOf(","), lastDot = text.lastIndexOf(".");
    if (lastComma > lastDot) text = text.replace(/\./g, "").replace(",", ".");
    else text = text.replace(/,/g, "");
    return /^\d+(\.\d+)?$/.test(text) ? parseFloat(text) : NaN;
  }

  // As the server writes money (jof/core/formatting.py): the ISO code, a space, the amount
  // grouped in the page's language with the currency's decimals ("USD 1,450.00",
  // "BRL 84.652,30"), never a symbol.
  function money(amount, currency) {
    var digits = 2;
    try {
      digits = new Intl.NumberFormat("en", {style: "currency", currency: currency}).resolvedOptions().maximumFractionDigits;
    } catch (e) { /* an unknown code: two decimals */ }
    var text;
    try {
      text = new Intl.NumberFormat(lang, {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(amount);
    } catch (e) {
      text = amount.toFixed(digits);
    }
    return currency + " " + text;
  }

  function field(row, key) {
    return row.querySelector('[name$="-' + key + '"]');
  }

  // "Line 3: Quantity" → "Line 4: Quantity": the number a screen reader announces is the
  // one the row shows. The template writes the labels with the number in front of the
  // first colon; only that number changes.
  function relabel(row, shown) {
    Array.prototype.forEach.call(row.querySelectorAll("[aria-label]"), function (el) {
      el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/\d+(?=[^\d:]*:)/, String(shown)));
    });
  }

  function recompute() {
    var byCurrency = {}, usd = 0, complete = true, any = false;
    Array.prototype.forEach.call(tbody.rows, function (row, i) {
      row.querySelector(".row-number").textContent = String(i + 1);
      relabel(row, i + 1);
      var qty = number(field(row, "quantity").value);
      var price = number(field(row, "unit_price").value);
      var currency = field(row, "currency").value;
      var cell = row.querySelector(".line-total");
      if (isNaN(qty) || isNaN(price)) { cell.textContent = ""; return; }
      any = true;
      var amount = qty * price;
      cell.textContent = money(amount, currency);
      byCurrency[currency] = (byCurrency[currency] || 0) + amount;
      if (rates[currency]) usd += amount / parseFloat(rates[currency]);
      else complete = false;
    });
    if (!any) { totalCell.textContent = "—"; return; }
    var parts = Object.keys(byCurrency).filter(function (c) { return c !== "USD"; })
      .map(function (c) { return money(byCurrency[c], c); });
    var text = money(usd, "USD");
    if (parts.length) text += " (" + parts.join(" + ") + (byCurrency.USD ? " + " + money(byCurrency.USD, "USD") : "") + ")";
    if (!complete) text += " *";
    totalCell.textContent = text;
  }

  function renumber(row, n) {
    Array.prototype.forEach.call(row.querySelectorAll("[name]"), function (el) {
      var key = el.name.replace(/^lines-\d+-/, "");
      el.name = "lines-" + n + "-" + key;
      el.id = el.name;
      el.removeAttribute("aria-describedby");
    });
    row.setAttribute("data-row", String(n));
  }

  function wire(row) {
    var remove = row.querySelector(".remove-line");
    remove.hidden = false;
    remove.addEventListener("click", function () {
      if (tbody.rows.length > 1) row.remove();
      else Array.prototype.forEach.call(row.querySelectorAll("input"), function (el) { el.value = ""; });
      recompute();
    });
  }

  Array.prototype.forEach.call(tbody.rows, wire);
  document.getElementById("add-line").addEventListener("click", function (event) {
    event.preventDefault();
    var last = tbody.rows[tbody.rows.length - 1];
    var next = 1 + Math.max.apply(null, Array.prototype.map.call(tbody.rows, function (r) {
      return parseInt(r.getAttribute("data-row"), 10);
    }));
    var row = last.cloneNode(true);
    renumber(row, next);
    Array.prototype.forEach.call(row.querySelectorAll("input"), function (el) {
      el.value = ""; el.classList.remove("is-invalid"); el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(row.querySelectorAll(".invalid-feedback"), function (el) { el.remove(); });
    row.querySelector(".line-total").textContent = "";
    tbody.appendChild(row);
    wire(row);
    recompute();
    field(row, "description").focus();
  });
  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  recompute();
})();
