/* Live progress of the initial sync: while it runs, ask /dashboard/initial-sync.json every 2 seconds and
   update the step, the note and each type's progress bar; once it is done, stop. Without JavaScript the
   page shows the progress as of its load and a Refresh link. */
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var list = document.getElementById("progress");
  if (!list || !window.fetch) { return; }
  var url = list.getAttribute("data-progress");

  function text(id, value) {
    var element = document.getElementById(id);
    if (element && element.textContent !== value) { element.textContent = value; }
  }

  function update(doc) {
    text("step", doc.step_text);
    text("note", doc.note);
    doc.types.forEach(function (type) {
      var item = list.querySelector('li[data-type="' + type.record_type + '"]');
      if (!item) { return; }
      var bar = item.querySelector("progress");
      if (bar) {
        if (type.percent === null) { bar.removeAttribute("value"); } else { bar.value = type.percent; }
        bar.textContent = type.percent_text;
        bar.setAttribute("aria-valuetext", type.label);
      }
      var percent = item.querySelector("[data-percent]");
      if (percent) { percent.textContent = type.percent_text; }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (doc) {
        update(doc);
        if (doc.running) { window.setTimeout(poll, EVERY_MS); }
      })
      .catch(function () { /* stop: the Refresh link still works */ });
  }

  window.setTimeout(poll, EVERY_MS);
}());
