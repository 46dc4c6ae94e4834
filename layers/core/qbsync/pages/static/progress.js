/* Live figures for the dashboard's counts table: while records wait to be sent, ask
   /dashboard/progress.json every 5 seconds and update the table's numbers and progress bars.
   Without JavaScript the page shows the figures as of its load and a Refresh link. */
(function () {
  "use strict";
  var EVERY_MS = 5000;
  var table = document.getElementById("counts");
  if (!table || !window.fetch) { return; }
  var url = table.getAttribute("data-progress");

  function update(doc) {
    doc.types.forEach(function (type) {
      var row = table.querySelector('tr[data-type="' + type.record_type + '"]');
      if (!row) { return; }
      Object.keys(type.counts).forEach(function (column) {
        var cell = row.querySelector('[data-count="' + column + '"]');
        if (cell) { cell.textContent = String(type.counts[column]); }
      });
      var bar = row.querySelector("progress");
      if (bar) {
        bar.value = type.percent_synced;
        bar.textContent = type.percent_text;
        bar.setAttribute("aria-label", type.progress_label);
      }
      var percent = row.querySelector("[data-percent]");
      if (percent) { percent.textContent = type.percent_text; }
    });
    var asOf = document.getElementById("as-of");
    if (asOf) { asOf.textContent = doc.as_of_text; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (doc) {
        update(doc);
        if (doc.active) { window.setTimeout(poll, EVERY_MS); }
      })
      .catch(function () { /* stop: the Refresh link still works */ });
  }

  window.setTimeout(poll, EVERY_MS);
}());
