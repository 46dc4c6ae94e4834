/* The dashboard's one script. It only keeps figures live: every page works without it, showing its
   figures as of its load and a Refresh link.

   An element with data-live="<address>" has that address asked every data-every milliseconds. The answer
   names what to change and whether to go on:
     {"running": true,
      "text": {"<element id>": "<new text>", ...},
      "bars": {"<progress id>": {"value": 40 or null, "text": "40 %", "valuetext": "..."}, ...},
      "every": 5000}
   ("every", if there, is how long to wait before asking again: the answer's cost may grow with the data).
   Once "running" is false the asking stops, and with data-reload-when-done the page loads again to show
   what the work found. */
(function () {
  "use strict";
  if (!window.fetch || !document.querySelectorAll) { return; }

  function setText(id, value) {
    var element = document.getElementById(id);
    if (element && element.textContent !== value) { element.textContent = value; }
  }

  function setBar(id, bar) {
    var element = document.getElementById(id);
    if (!element) { return; }
    if (bar.value === null) { element.removeAttribute("value"); } else { element.value = bar.value; }
    element.textContent = bar.text;
    element.setAttribute("aria-valuetext", bar.valuetext);
  }

  function watch(element) {
    var url = element.getAttribute("data-live");
    var every = parseInt(element.getAttribute("data-every"), 10) || 5000;
    var reload = element.hasAttribute("data-reload-when-done");

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("HTTP " + answer.status); }
          return answer.json();
        })
        .then(function (doc) {
          Object.keys(doc.text || {}).forEach(function (id) { setText(id, doc.text[id]); });
          Object.keys(doc.bars || {}).forEach(function (id) { setBar(id, doc.bars[id]); });
          if (doc.running) {
            window.setTimeout(poll, doc.every || every);
          } else if (reload) {
            window.location.reload();
          }
        })
        .catch(function () { /* stop: the Refresh link still works */ });
    }

    window.setTimeout(poll, every);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), watch);
}());
