/* Live alert pages: listens to the alert stream (Server-Sent Events) and, when an alert is
   told or changes, fetches its card from the server and puts it in place; says what
   happened in a visible list and to screen readers. No library, no build step.

   Reconnecting: the browser reconnects by itself and sends Last-Event-ID, so the server
   sends what was missed. When the server refuses (the page's session ended, a 5xx), the
   browser gives up; then this script opens a new stream after a growing pause, from the
   last event it saw. */
(function () {
  "use strict";
  var root = document.getElementById("alert-live");
  if (!root) return;
  var statusLine = document.getElementById("alert-live-status");
  var announcer = document.getElementById("alert-announce");
  var notices = document.getElementById("alert-notices");
  var MAX_NOTICES = 5;
  var lastId = null;
  var pause = 1000;
  var said = {};

  function setStatus(key) {
    statusLine.textContent = root.getAttribute("data-text-" + key) || "";
    statusLine.className = "live-status live-" + key;
  }

  if (!window.EventSource || !window.fetch) { setStatus("offline"); return; }

  function withAfter(url, after) {
    if (!after) return url;
    var base = url.replace(/([?&])after=[^&]*&?/, "$1").replace(/[?&]$/, "");
    return base + (base.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(after);
  }

  function say(text, alertId) {
    if (!text) return;
    var key = alertId + "|" + text;
    if (said[key]) return;  // the same news by delivery and by change: once
    said[key] = true;
    var item = document.createElement("li");
    var when = new Date();
    item.textContent = when.toTimeString().slice(0, 5) + " " + text;
    notices.insertBefore(item, notices.firstChild);
    while (notices.children.length > MAX_NOTICES) notices.removeChild(notices.lastChild);
    announcer.textContent = text;
  }

  function placeholders() {
    var empties = document.querySelectorAll("[data-empty-for]");
    for (var i = 0; i < empties.length; i++) {
      var list = document.getElementById(empties[i].getAttribute("data-empty-for"));
      empties[i].hidden = !!(list && list.querySelector(".alert-card"));
    }
  }

  function later(a, b) {  // does card a come after card b? worst first, then oldest
    var ra = +a.getAttribute("data-rank"), rb = +b.getAttribute("data-rank");
    if (ra !== rb) return ra > rb;
    return +a.getAttribute("data-opened") > +b.getAttribute("data-opened");
  }

  function place(card) {
    var list = document.getElementById("alerts-" + card.getAttribute("data-section"));
    var old = document.getElementById(card.id);
    var hadFocus = old && old.contains(document.activeElement);
    if (old) old.parentNode.removeChild(old);
    if (!list) return;
    var next = null;
    var cards = list.querySelectorAll(".alert-card");
    for (var i = 0; i < cards.length; i++) {
      if (later(cards[i], card)) { next = cards[i]; break; }
    }
    list.insertBefore(card, next);
    if (hadFocus) {
      var heading = card.querySelector("[tabindex='-1']");
      if (heading) heading.focus();
    }
  }

  function refresh(alertId) {
    var url = root.getAttribute("data-card").replace("/0/card", "/" + alertId + "/card");
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.status === 404) {
          var gone = document.getElementById("alert-" + alertId);
          if (gone) gone.parentNode.removeChild(gone);
          return;
        }
        if (!response.ok) return;
        return response.text().then(function (html) {
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var card = holder.content.querySelector(".alert-card");
          if (card) place(card);
        });
      })
      .then(placeholders)
      .catch(function () { /* the next event or a reload shows it */ });
  }

  function onEvent(event) {
    if (event.lastEventId) lastId = event.lastEventId;
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    refresh(data.alert.id).then(function () { say(data.text, data.alert.id); });
  }

  function connect() {
    var source = new EventSource(withAfter(root.getAttribute("data-stream"), lastId));
    source.onopen = function () { pause = 1000; setStatus("live"); };
    source.addEventListener("alert", onEvent);
    source.addEventListener("change", onEvent);
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        setStatus("reconnecting");
        setTimeout(connect, pause);
        pause = Math.min(pause * 2, 30000);
      } else {
        setStatus("reconnecting");
      }
    };
  }

  connect();
})();
