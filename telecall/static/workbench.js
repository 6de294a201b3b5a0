/* The video-visit workbench, live: every 5 seconds asks /visits/waiting.json who is in each
   of today's visit rooms and puts it in the table; says who has just come in (shown, and
   read out by screen readers). No library, no build step. Stops asking while the tab is
   hidden and after repeated failures says the list is no longer live. */
(function () {
  "use strict";
  var root = document.getElementById("visit-live");
  if (!root || !window.fetch) return;
  var statusLine = document.getElementById("visit-live-status");
  var announcer = document.getElementById("visit-announce");
  var PERIOD = 5000;
  var failures = 0;
  var seen = null; // participant ids already waiting at the last answer

  function text(key) { return root.getAttribute("data-text-" + key) || ""; }

  function setStatus(key) {
    statusLine.textContent = text(key);
    statusLine.className = "live-status live-" + key;
  }

  function waitingWords(person) {
    return text("waiting").replace("%(name)s", person.name).replace("%(role)s", person.role_label);
  }

  function fillRow(row, visit) {
    var cell = row.querySelector(".waiting-cell");
    var status = row.querySelector(".visit-status-cell strong");
    if (status && status.textContent !== visit.status_label) {
      status.textContent = visit.status_label;
      status.className = "visit-status status-" + visit.status;
    }
    if (!cell) return;
    cell.textContent = "";
    if (!visit.waiting.length) {
      var none = document.createElement("span");
      none.className = "empty";
      none.textContent = text("nobody");
      cell.appendChild(none);
    } else {
      cell.textContent = visit.waiting.map(waitingWords).join("; ");
    }
    row.classList.toggle("has-waiting", visit.waiting.length > 0);
  }

  function apply(body) {
    var now = {};
    var news = [];
    body.visits.forEach(function (visit) {
      var row = document.querySelector("tr[data-visit-id='" + visit.id + "']");
      if (row) fillRow(row, visit);
      visit.waiting.forEach(function (person) {
        now[person.id] = true;
        if (seen && !seen[person.id]) news.push(waitingWords(person));
      });
    });
    seen = now;
    if (news.length) announcer.textContent = news.join("; ");
  }

  function poll() {
    if (document.hidden) return;
    fetch(root.getAttribute("data-url"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (body) {
        failures = 0;
        setStatus("live");
        apply(body);
      })
      .catch(function () {
        failures += 1;
        if (failures >= 3) setStatus("offline");
      });
  }

  setStatus("live");
  poll();
  window.setInterval(poll, PERIOD);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
}());
