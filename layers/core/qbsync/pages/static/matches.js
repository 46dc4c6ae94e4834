/* Live state of an automatch run on a match tab: while it is unfinished, ask /dashboard/match-run.json
   every 2 seconds and show its state; once it is done, load the page again to show what it found.
   Without JavaScript the page shows the state as of its load and a Refresh link. */
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var run = document.getElementById("match-run");
  if (!run || !window.fetch) { return; }
  var state = run.getAttribute("data-state");
  if (state !== "queued" && state !== "matching" && state !== "linking") { return; }
  var url = run.getAttribute("data-run");
  var text = document.getElementById("match-run-state");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (doc) {
        if (text) { text.textContent = doc.text; }
        if (doc.unfinished) { window.setTimeout(poll, EVERY_MS); } else { window.location.reload(); }
      })
      .catch(function () { /* stop: the Refresh link still works */ });
  }

  window.setTimeout(poll, EVERY_MS);
}());
