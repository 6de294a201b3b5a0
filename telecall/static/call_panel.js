/* The doctor's side panel on the call page: who is here (from call.js's presence events),
   the resident's latest vitals (polled every 15 s), the follow-up form and the notes (PUT,
   signed-in session with the CSRF token), inviting a third or fourth participant, starting a
   recording (refused without both consents: the page says whose is missing) and ending the
   visit. No library, no build step. */
(function () {
  "use strict";
  var dataNode = document.getElementById("call-data");
  var textNode = document.getElementById("panel-texts");
  if (!dataNode || !textNode) return;
  var urls = JSON.parse(dataNode.textContent).panel;
  var T = JSON.parse(textNode.textContent);
  var VITALS_EVERY_MS = 15000;

  function $(id) { return document.getElementById(id); }
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function clock() { return new Date().toTimeString().slice(0, 5); }

  function send(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: {"X-CSRFToken": urls.csrf, "Accept": "application/json"},
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (err) { json = null; }
        return {ok: response.ok, status: response.status, body: json || {}};
      });
    }, function () { return {ok: false, status: 0, body: {}}; });
  }

  // The platform answers in English; say its known refusals in the reader's language.
  function why(answer) {
    if (answer.status === 0) return T.network;
    var message = answer.body.message || String(answer.status);
    var known = T.messages[message];
    var text = known ? known.charAt(0).toUpperCase() + known.slice(1) : message;
    if (answer.body.missing && answer.body.missing.length) {
      var who = answer.body.missing.map(function (role) { return T["role_" + role] || role; });
      text += " — " + fill(T.missing_consent, {who: who.join("、")});
    }
    return fill(T.failed, {reason: text});
  }

  // -- who is here ---------------------------------------------------------------------------
  document.addEventListener("kangyang:presence", function (event) {
    var peer = event.detail.peer;
    var item = document.querySelector('#panel-people [data-participant="' + peer.id + '"]');
    if (!item) return;
    item.className = event.detail.present ? "is-present" : "is-absent";
    item.querySelector(".presence").textContent = event.detail.present ? T.present || "" : T.absent || "";
  });

  // -- vitals ------------------------------------------------------------------------------
  function showVitals(answer) {
    var list = $("panel-vitals"), state = $("vitals-state");
    if (!answer.ok) { state.textContent = T.vitals_failed; return; }
    list.textContent = "";
    answer.body.vitals.forEach(function (v) {
      var term = document.createElement("dt");
      term.textContent = v.label;
      var value = document.createElement("dd");
      value.textContent = v.value + " " + v.unit + " (" + v.time + ")";
      value.setAttribute("data-metric", v.metric);
      list.appendChild(term);
      list.appendChild(value);
    });
    state.textContent = answer.body.vitals.length ? fill(T.vitals_as_of, {time: clock()}) : answer.body.empty;
  }

  function pollVitals() {
    send("GET", urls.vitals).then(showVitals).then(function () { setTimeout(pollVitals, VITALS_EVERY_MS); });
  }

  // -- the follow-up form and the notes ------------------------------------------------------
  function readForm(form) {
    var data = {symptoms: []};
    form.querySelectorAll("[name]").forEach(function (input) {
      var name = input.name, type = input.getAttribute("data-type");
      if (name === "symptoms") { if (input.checked) data.symptoms.push(input.value); return; }
      if (type === "bool") { data[name] = input.checked; return; }
      var value = input.value.trim();
      if (value === "") return;  // left empty: not given
      data[name] = type === "int" ? parseInt(value, 10) : type === "float" ? parseFloat(value) : value;
    });
    return data;
  }

  function markErrors(form, errors) {
    form.querySelectorAll(".field-error").forEach(function (node) { node.remove(); });
    form.querySelectorAll(".has-error").forEach(function (node) { node.classList.remove("has-error"); });
    Object.keys(errors || {}).forEach(function (name) {
      var field = form.querySelector('[data-field="' + name + '"]');
      if (!field) return;
      field.classList.add("has-error");
      var note = document.createElement("p");
      note.className = "field-error";
      note.textContent = T.check_field + ": " + [].concat(errors[name]).join(" ");
      field.appendChild(note);
    });
  }

  function saver(form, method, url, body) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var state = form.querySelector(".save-state");
      send(method, url, body(form)).then(function (answer) {
        var fieldErrors = answer.body.errors && answer.body.errors.json;
        markErrors(form, answer.ok ? null : fieldErrors);
        state.textContent = answer.ok ? fill(T.saved, {time: clock()})
          : fieldErrors ? T.not_saved : why(answer);
      });
    });
  }

  // -- inviting ------------------------------------------------------------------------------
  function invite(event) {
    event.preventDefault();
    var form = event.target, result = $("invite-result");
    var body = {role: form.role.value, display_name: form.display_name.value.trim()};
    send("POST", urls.invite, body).then(function (answer) {
      result.hidden = false;
      if (!answer.ok) {
        result.querySelector("p").textContent = why(answer);
        result.querySelector("input").hidden = result.querySelector("button").hidden = true;
        return;
      }
      result.querySelector("p").textContent = fill(T.invite_link, {name: answer.body.display_name});
      result.querySelector("input").hidden = result.querySelector("button").hidden = false;
      result.querySelector("input").value = answer.body.join_url;
      addPerson(answer.body, form.role.selectedOptions[0].textContent);
      form.reset();
    });
  }

  function addPerson(person, roleName) {
    var item = document.createElement("li");
    item.setAttribute("data-participant", person.id);
    item.className = "is-absent";
    var who = document.createElement("span");
    who.className = "person";
    who.textContent = person.display_name;
    var presence = document.createElement("strong");
    presence.className = "presence";
    presence.textContent = T.absent || "";
    item.appendChild(who);
    item.appendChild(document.createTextNode(" (" + roleName + "): "));
    item.appendChild(presence);
    $("panel-people").appendChild(item);
  }

  function copyLink() {
    var input = $("invite-result").querySelector("input");
    input.select();
    var done = function () { $("invite-result").querySelector("p").textContent = T.copied; };
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () {});
    else if (document.execCommand("copy")) done();
  }

  // -- recording and ending ------------------------------------------------------------------
  var recordingOn = false;

  function record() {
    var state = $("run-state"), stopping = recordingOn;
    state.textContent = stopping ? T.recording_stopping : T.recording_starting;
    send(stopping ? "DELETE" : "POST", urls.record).then(function (answer) {
      if (!answer.ok) state.textContent = why(answer);
    });
  }

  document.addEventListener("kangyang:recording", function (event) {
    recordingOn = event.detail.on;
    $("btn-record").textContent = recordingOn ? T.stop_recording : T.start_recording;
    $("run-state").textContent = recordingOn ? T.recording_on : "";
  });

  function end() {
    if (!window.confirm(T.end_confirm)) return;
    var state = $("run-state");
    state.textContent = T.ending;
    send("POST", urls.end).then(function (answer) {
      if (!answer.ok) state.textContent = why(answer);
      else state.textContent = "";
    });
  }

  saver($("followup-form"), "PUT", urls.form, readForm);
  saver($("notes-form"), "PUT", urls.notes, function (form) { return {notes: form.notes.value}; });
  $("invite-form").addEventListener("submit", invite);
  $("invite-result").querySelector("button").addEventListener("click", copyLink);
  $("btn-record").addEventListener("click", record);
  $("btn-end").addEventListener("click", end);
  pollVitals();
})();
