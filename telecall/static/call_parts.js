/* Small parts of the call page that hold no state of the call: a Server-Sent-Events reader
   over fetch() (EventSource cannot send the X-Join-Token header), waiting for complete ICE
   gathering, the DTLS fingerprint of an SDP, reading a connection's statistics and turning
   two readings into a quality sample. Also the waiting page's countdown, which runs by itself
   on that page. No library, no build step: window.kangyangCallParts. */
(function () {
  "use strict";

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  // WHATWG HTML "server-sent events" line rules, enough for the call API's stream: `data`
  // and `id` fields, comments (the keep-alive) ignored, an event ends at a blank line.
  function readEvents(body, onId, dispatch) {
    var reader = body.getReader(), decoder = new TextDecoder(), buffer = "", data = [], id = null;
    function line(text) {
      if (text === "") {
        if (id !== null) onId(id);
        if (data.length) dispatch(data.join("\n"));
        data = [];
        id = null;
        return;
      }
      if (text.charAt(0) === ":") return;
      var colon = text.indexOf(":");
      var field = colon < 0 ? text : text.slice(0, colon);
      var value = colon < 0 ? "" : text.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, {stream: true});
        var lines = buffer.split("\n");
        buffer = lines.pop();
        lines.forEach(function (text) { line(text.replace(/\r$/, "")); });
        return pump();
      });
    }
    return pump();
  }

  // Complete SDP, no trickle: wait for gathering to finish, or send what was found by then
  // (an unreachable STUN or TURN server must not hold the call up).
  function gathered(pc, most) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, most);
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  function fingerprint(sdp) {
    var found = /a=fingerprint:(\S+ \S+)/.exec(sdp || "");
    return found ? found[1] : null;
  }

  // One reading of a connection: the selected candidate pair's round-trip time, and the
  // inbound RTP counters summed over audio and video (frames: video only).
  async function measure(pc) {
    var stats = await pc.getStats(), pairs = {}, selected = null, nominated = null;
    var sum = {lost: 0, received: 0, bytes: 0, frames: 0, at: Date.now()};
    stats.forEach(function (s) {
      if (s.type === "candidate-pair") {
        pairs[s.id] = s;
        if (s.nominated && s.state === "succeeded") nominated = s;
      }
      if (s.type === "transport" && s.selectedCandidatePairId) selected = s.selectedCandidatePairId;
      if (s.type === "inbound-rtp") {
        sum.lost += Math.max(0, s.packetsLost || 0);
        sum.received += s.packetsReceived || 0;
        sum.bytes += s.bytesReceived || 0;
        if (s.kind === "video") sum.frames += s.framesDecoded || 0;
      }
    });
    var pair = (selected && pairs[selected]) || nominated;
    sum.rtt = pair && pair.currentRoundTripTime != null ? pair.currentRoundTripTime * 1000 : null;
    return sum;
  }

  // Loss and bitrate over the time between two readings (none for the first).
  function sample(prev, now) {
    var out = {rtt_ms: now.rtt == null ? null : Math.min(60000, now.rtt), loss_percent: null, bitrate_kbps: null};
    if (!prev) return out;
    var lost = now.lost - prev.lost, packets = now.received - prev.received + lost;
    if (packets > 0) out.loss_percent = Math.min(100, Math.max(0, 100 * lost / packets));
    var seconds = (now.at - prev.at) / 1000;
    if (seconds > 0) out.bitrate_kbps = Math.min(100000, Math.max(0, (now.bytes - prev.bytes) * 8 / 1000 / seconds));
    return out;
  }

  // The waiting page: count down to the room's opening, then load the page again (the call).
  function countdown(node) {
    var words = document.getElementById("countdown-words").content.textContent;
    var hours = document.getElementById("countdown-hours").content.textContent;
    var target = Date.now() + Number(node.getAttribute("data-seconds")) * 1000;
    var out = document.getElementById("countdown");
    if (target <= Date.now()) { setTimeout(function () { window.location.reload(); }, 3000); return; }
    function show() {
      var rest = Math.max(0, Math.round((target - Date.now()) / 1000));
      if (rest === 0) { window.location.reload(); return; }
      out.textContent = rest >= 3600
        ? fill(hours, {h: Math.floor(rest / 3600), m: Math.floor(rest / 60) % 60})
        : fill(words, {m: Math.floor(rest / 60), s: rest % 60});
      setTimeout(show, 1000);
    }
    show();
  }

  window.kangyangCallParts = {
    fill: fill, readEvents: readEvents, gathered: gathered, fingerprint: fingerprint,
    measure: measure, sample: sample,
  };
  var waiting = document.getElementById("call-waiting");
  if (waiting) countdown(waiting);
})();
