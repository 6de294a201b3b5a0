/* The call page, for both sides. No library, no build step (helpers: call_parts.js).

   Joining: POST /api/v1/call/join with the link's token (X-Join-Token) gives the peers
   present; the newcomer sends each a COMPLETE offer (ICE gathering finished: no trickle).
   Messages come on GET /api/v1/call/events, read with fetch() and a small Server-Sent-Events
   parser (EventSource cannot send the token header); after a drop it reconnects with
   Last-Event-ID, so nothing is lost.
   One RTCPeerConnection per peer. An offer with the DTLS fingerprint of the connection in
   place renegotiates it (an ICE restart); any other offer means the peer started afresh (a
   reload, the aiortc client), so the connection is rebuilt. The side that offered re-offers
   with iceRestart when the link fails or stays disconnected 3 s.
   Every 2 s the page reads getStats (frames decoded, for the tiles and the test hook
   window.kangyangCall.peers()); every 10 s it posts round-trip time, loss and bitrate. */
(function () {
  "use strict";

  var parts = window.kangyangCallParts;
  var dataNode = document.getElementById("call-data");
  if (!dataNode) return;
  var cfg = JSON.parse(dataNode.textContent);
  var T = JSON.parse(document.getElementById("call-texts").textContent);
  var GATHER_MS = 5000, RESTART_AFTER_MS = 3000, OFFER_GRACE_MS = 8000, GLARE_MS = 10000;
  var RETRY_MS = 5000;
  var TICK_MS = 2000, QUALITY_EVERY = 5;  // ticks: a quality sample every 10 s
  var me = cfg.participant, iceServers = [], peers = {}, known = {};
  var local = new MediaStream(), audioTrack = null, videoTrack = null;
  var audioOnly = false, joinedCall = false, ended = false, left = false, lastEventId = null, streamAbort = null;
  var queue = Promise.resolve(), ticks = 0, tickTimer = null;

  function $(id) { return document.getElementById(id); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function setStatus(text) { $("call-status").textContent = text; }
  function notice(text) { var n = $("call-notice"); n.textContent = text || ""; n.hidden = !text; }
  function later(task) {  // signalling steps run one at a time, in order
    queue = queue.then(task).catch(function (err) { console.warn("call:", err && err.name); });
    return queue;
  }
  function nameOf(id) { return (known[id] && known[id].display_name) || "#" + id; }

  function callApi(name, method, body) {
    var options = {method: method || "POST", headers: {"X-Join-Token": cfg.token}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(cfg.api[name], options);
  }

  // -- local camera and microphone ------------------------------------------------------------
  async function openLocal() {
    try {
      local = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: {ideal: 640}, height: {ideal: 480}}});
    } catch (err) {
      var why = err.name === "NotAllowedError" ? T.camera_denied
        : err.name === "NotReadableError" ? T.camera_busy : T.no_camera;
      try {
        local = await navigator.mediaDevices.getUserMedia({audio: true});
        notice(why);
      } catch (err2) {
        local = new MediaStream();
        notice(T.no_microphone);
      }
    }
    audioTrack = local.getAudioTracks()[0] || null;
    videoTrack = local.getVideoTracks()[0] || null;
    $("self-video").srcObject = local;
    $("btn-voice").disabled = !videoTrack;
    $("btn-mute").disabled = !audioTrack;
    if (!videoTrack) $("self-state").textContent = T.voice_only;
  }

  function setAudioOnly(on) {
    audioOnly = on;
    Object.keys(peers).forEach(function (id) { attachLocal(peers[id].pc); });
    if (videoTrack) videoTrack.enabled = !on;
    var button = $("btn-voice");
    button.textContent = on ? T.video_back : T.voice_only;
    button.setAttribute("aria-pressed", String(on));
    $("self-state").textContent = on ? T.voice_only : "";
    notice(on ? T.voice_only_on : "");
  }

  function setMuted(on) {
    if (audioTrack) audioTrack.enabled = !on;
    var button = $("btn-mute");
    button.textContent = on ? T.unmute : T.mute;
    button.setAttribute("aria-pressed", String(on));
    notice(on ? T.muted : "");
  }

  // Our tracks on a connection's first audio and video transceivers (made by us for an
  // offer, or by the remote offer before an answer). Voice only: the video sender is empty.
  function attachLocal(pc) {
    if (!pc || pc.signalingState === "closed") return;
    var done = {};
    pc.getTransceivers().forEach(function (t) {
      var kind = t.receiver.track.kind;
      if (done[kind] || t.currentDirection === "stopped") return;
      done[kind] = true;
      var track = kind === "audio" ? audioTrack : videoTrack;
      if (!track) return;
      if (t.direction === "recvonly" || t.direction === "inactive") t.direction = "sendrecv";
      t.sender.replaceTrack(kind === "video" && audioOnly ? null : track);
      if (t.sender.setStreams) t.sender.setStreams(local);
    });
  }

  // -- tiles -------------------------------------------------------------------------------
  function tileFor(info) {
    var tile = $("tile-" + info.id);
    if (tile) return tile;
    tile = document.createElement("figure");
    tile.className = "tile";
    tile.id = "tile-" + info.id;
    tile.hidden = info.role === "recorder";  // the recorder sends nothing to see
    var video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    var caption = document.createElement("figcaption");
    var role = T["role_" + info.role] ? " (" + T["role_" + info.role] + ")" : "";
    caption.textContent = info.display_name + role + " ";
    var state = document.createElement("span");
    state.className = "tile-state";
    state.textContent = T.peer_connecting;
    caption.appendChild(state);
    tile.appendChild(video);
    tile.appendChild(caption);
    $("call-tiles").appendChild(tile);
    return tile;
  }

  function tileState(peer, text) {
    var state = peer.tile.querySelector(".tile-state");
    if (state.textContent !== text) state.textContent = text;
  }

  function presence(info, present) {
    document.dispatchEvent(new CustomEvent("kangyang:presence", {detail: {peer: info, present: present}}));
  }

  // -- peer connections --------------------------------------------------------------------
  function newPeer(info, offered) {
    dropPeer(info.id, false);
    var pc = new RTCPeerConnection({iceServers: iceServers});
    var peer = {info: info, pc: pc, offered: offered, tile: tileFor(info), remote: new MediaStream()};
    peer.prev = null;
    peer.frames = 0;
    peer.stalled = 0;
    peer.tile.querySelector("video").srcObject = peer.remote;
    pc.ontrack = function (event) {
      peer.remote.addTrack(event.track);
      var video = peer.tile.querySelector("video");
      video.play().catch(function () { video.muted = true; video.play().catch(function () {}); notice(T.no_sound_out); });
    };
    pc.onconnectionstatechange = function () { watchState(peer, pc); };
    peers[info.id] = peer;
    return peer;
  }

  function dropPeer(id, removeTile) {
    var peer = peers[id];
    if (peer) {
      clearTimeout(peer.restartTimer);
      peer.pc.close();
      delete peers[id];
    }
    var tile = $("tile-" + id);
    if (removeTile && tile) tile.remove();
  }

  async function signal(to, kind, description) {
    var response = await callApi("signal", "POST", {to: to, kind: kind, payload: {type: description.type, sdp: description.sdp}});
    if (!response.ok) throw new Error("signal " + response.status);
  }

  async function offerTo(info, restart) {
    var peer = restart && peers[info.id] ? peers[info.id] : newPeer(info, true);
    var pc = peer.pc;
    if (!restart) {  // what we have is sent; what we lack is still received
      pc.addTransceiver(audioTrack || "audio", {direction: audioTrack ? "sendrecv" : "recvonly", streams: [local]});
      var video = pc.addTransceiver(videoTrack || "video", {direction: videoTrack ? "sendrecv" : "recvonly", streams: [local]});
      if (videoTrack && audioOnly) video.sender.replaceTrack(null);
    }
    peer.offered = true;
    peer.offeredAt = Date.now();
    await pc.setLocalDescription(await pc.createOffer(restart ? {iceRestart: true} : {}));
    await parts.gathered(pc, GATHER_MS);
    if (peers[info.id] !== peer || pc.signalingState !== "have-local-offer") return;
    await signal(info.id, "offer", pc.localDescription);
  }

  async function onOffer(from, offer) {
    var info = known[from] || {id: from, role: "", display_name: nameOf(from)};
    var peer = peers[from];
    if (peer && peer.pc.signalingState === "have-local-offer") {
      // Both offered at once: the higher id keeps its own offer, unless that offer is old
      // (sent to someone who had gone, and is back now as a newcomer).
      if (me.id > from && Date.now() - peer.offeredAt < GLARE_MS) return;
      peer = null;
    }
    var same = peer && peer.pc.remoteDescription && parts.fingerprint(peer.pc.remoteDescription.sdp) === parts.fingerprint(offer.sdp);
    if (!same) peer = newPeer(info, false);
    var pc = peer.pc;
    await pc.setRemoteDescription(offer);
    attachLocal(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    await parts.gathered(pc, GATHER_MS);
    if (peers[from] !== peer) return;
    await signal(from, "answer", pc.localDescription);
  }

  async function onAnswer(from, answer) {
    var peer = peers[from];
    if (!peer || peer.pc.signalingState !== "have-local-offer") return;
    var before = peer.pc.remoteDescription;
    if (before && parts.fingerprint(before.sdp) !== parts.fingerprint(answer.sdp)) {
      return offerTo(peer.info, false);  // the peer answered from a new connection: start afresh
    }
    try {
      await peer.pc.setRemoteDescription(answer);
    } catch (err) {
      return offerTo(peer.info, false);
    }
  }

  function watchState(peer, pc) {
    if (peers[peer.info.id] !== peer || peer.pc !== pc) return;
    var state = pc.connectionState;
    tileState(peer, state === "connected" ? T.peer_connected
      : state === "failed" || state === "disconnected" ? T.peer_trouble : T.peer_connecting);
    if (state === "connected") { clearTimeout(peer.restartTimer); peer.restartTimer = null; }
    armRestart(peer, state === "failed" ? 0 : RESTART_AFTER_MS);
  }

  // The side that offered restarts ICE while the link is down, and again every few seconds
  // until it is back (a restart made while the network was away finds no way through).
  function armRestart(peer, delay) {
    if (peers[peer.info.id] !== peer || !peer.offered || peer.restartTimer) return;
    var pc = peer.pc;
    if (pc.connectionState !== "failed" && pc.connectionState !== "disconnected") return;
    peer.restartTimer = setTimeout(function () {
      var now = pc.connectionState;
      if (peers[peer.info.id] !== peer || (now !== "failed" && now !== "disconnected")) {
        peer.restartTimer = null;
        return;
      }
      peer.restarts = (peer.restarts || 0) + 1;
      later(function () { return offerTo(peer.info, true); }).then(function () {
        setTimeout(function () { peer.restartTimer = null; armRestart(peer, 0); }, RETRY_MS);
      });
    }, delay);
  }

  // -- messages ----------------------------------------------------------------------------
  function handle(message) {
    var kind = message.kind, from = message.from, payload = message.payload || {};
    if (kind === "offer" && from) return onOffer(from, payload);
    if (kind === "answer" && from) return onAnswer(from, payload);
    if (kind === "candidate" && from && peers[from] && peers[from].pc.remoteDescription) {
      return peers[from].pc.addIceCandidate(payload).catch(function () {});
    }
    if (kind === "joined" && payload.peer) return joined(payload.peer);
    if (kind === "left") return gone(payload.peer_id);
    if (kind === "recording") return recording(payload.state === "started");
    if (kind === "ended" || kind === "bye") return finish(T.ended);
  }

  function joined(info) {
    known[info.id] = info;
    presence(info, true);
    if (info.role !== "recorder") setStatus(parts.fill(T.peer_joined, {name: info.display_name}));
    // The newcomer offers. Should its offer never come (both joined at the same moment and
    // neither saw the other), offer ourselves.
    setTimeout(function () {
      if (!ended && !left && !peers[info.id] && known[info.id]) later(function () { return offerTo(info, false); });
    }, OFFER_GRACE_MS);
  }

  function gone(id) {
    var info = known[id];
    dropPeer(id, true);
    delete known[id];
    if (info) {
      presence(info, false);
      if (info.role !== "recorder") setStatus(parts.fill(T.peer_left, {name: info.display_name}));
    }
  }

  function recording(on) {
    document.dispatchEvent(new CustomEvent("kangyang:recording", {detail: {on: on}}));
    var badge = $("call-recording");
    badge.querySelector("strong").textContent = on ? T.recording : T.recording_stopped;
    badge.hidden = false;
    badge.classList.toggle("is-on", on);
    if (!on) setTimeout(function () { if (!badge.classList.contains("is-on")) badge.hidden = true; }, 8000);
  }

  // A refusal of the token: the visit is over (say so), or the link no longer works.
  var OVER = ["this visit is over", "this visit was cancelled", "this link has expired: the visit is over"];
  async function refusedBy(response) {
    var body = await response.json().catch(function () { return {}; });
    return finish(OVER.indexOf(body.message) >= 0 ? T.ended : T.refused);
  }

  async function follow(after) {
    var pause = 1000, broken = false;
    while (!ended && !left) {
      streamAbort = new AbortController();
      try {
        var headers = {"X-Join-Token": cfg.token, "Accept": "text/event-stream"};
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        var url = cfg.api.events + "?after=" + encodeURIComponent(lastEventId || after);
        var response = await fetch(url, {headers: headers, signal: streamAbort.signal, cache: "no-store"});
        if ([401, 403, 404, 410].indexOf(response.status) >= 0) return refusedBy(response);
        if (!response.ok) throw new Error("events " + response.status);
        if (broken) setStatus(Object.keys(peers).length ? T.in_call : T.waiting_others);
        broken = false;
        var opened = Date.now();
        await parts.readEvents(response.body, function (id) { lastEventId = id; }, function (text) {
          var message;
          try { message = JSON.parse(text); } catch (err) { return; }
          later(function () { return handle(message); });
        });
        // The server closes a stream after ~10 minutes: open the next one at once (but a
        // stream that ends as soon as it opens is a fault, and waits like one).
        if (Date.now() - opened > 30000) { pause = 1000; continue; }
      } catch (err) {
        if (ended || left) return;
      }
      broken = true;
      setStatus(T.reconnecting);
      await sleep(pause);
      pause = Math.min(pause * 2, 15000);
    }
  }

  // -- statistics --------------------------------------------------------------------------
  function quality(peer, now) {
    var sample = parts.sample(peer.prev, now);
    peer.prev = now;
    sample.peer_id = peer.info.id;
    sample.audio_only = audioOnly || !videoTrack;
    return callApi("quality", "POST", sample).catch(function () {});
  }

  async function tick() {
    ticks += 1;
    var post = ticks % QUALITY_EVERY === 0;
    for (var id in peers) {
      var peer = peers[id];
      if (peer.pc.connectionState !== "connected") continue;
      var now = await parts.measure(peer.pc);
      peer.stalled = now.frames > peer.frames ? 0 : peer.stalled + 1;
      peer.frames = now.frames;
      if (peer.stalled >= 2) tileState(peer, T.peer_voice_only);
      else tileState(peer, T.peer_connected);
      if (post) quality(peer, now);
    }
  }

  // -- the call's course ---------------------------------------------------------------------
  async function join() {
    setStatus(T.connecting);
    var response;
    try {
      response = await callApi("join", "POST", {client: "browser"});
    } catch (err) {
      return failed(T.join_failed);
    }
    if ([401, 403, 404, 410].indexOf(response.status) >= 0) return refusedBy(response);
    if (!response.ok) return failed(T.join_failed);
    var joinedData = await response.json();
    iceServers = joinedData.ice_servers || [];
    joinedCall = true;
    me = joinedData.participant;
    presence(me, true);
    joinedData.peers.forEach(function (info) { known[info.id] = info; presence(info, true); });
    setStatus(joinedData.peers.length ? T.in_call : T.waiting_others);
    joinedData.peers.forEach(function (info) { later(function () { return offerTo(info, false); }); });
    $("btn-leave").disabled = false;
    if ($("btn-consent")) $("btn-consent").disabled = false;
    tickTimer = setInterval(tick, TICK_MS);
    follow(joinedData.after);
  }

  function failed(text) {
    setStatus(text);
    $("btn-rejoin").hidden = false;
  }

  function stopAll() {
    clearInterval(tickTimer);
    if (streamAbort) streamAbort.abort();
    Object.keys(peers).forEach(function (id) { dropPeer(id, true); });
  }

  function finish(text) {
    if (ended) return;
    ended = true;
    stopAll();
    local.getTracks().forEach(function (t) { t.stop(); });
    setStatus(text);
    if (text === T.ended) $("call-ended").hidden = false;
    ["btn-voice", "btn-mute", "btn-leave", "btn-consent"].forEach(function (id) { if ($(id)) $(id).disabled = true; });
  }

  function leave(keepalive) {
    if (left || ended) return;
    left = true;
    stopAll();
    fetch(cfg.api.leave, {method: "POST", keepalive: true, headers: {"X-Join-Token": cfg.token}}).catch(function () {});
    if (!keepalive) {
      local.getTracks().forEach(function (t) { t.stop(); });
      setStatus(T.left);
      $("btn-leave").disabled = true;
      $("btn-rejoin").hidden = false;
    }
  }

  function showConsent(given) {
    cfg.consented = given;
    $("btn-consent").textContent = given ? T.consent_withdraw : T.consent_give;
    $("consent-state").textContent = given ? T.consent_given : T.consent_none;
  }

  async function toggleConsent() {
    var button = $("btn-consent");
    button.disabled = true;
    try {
      var response = await callApi("consent", cfg.consented ? "DELETE" : "POST");
      if (response.ok) showConsent(!cfg.consented);
    } finally {
      button.disabled = ended;
    }
  }

  function wire() {
    $("btn-voice").addEventListener("click", function () { setAudioOnly(!audioOnly); });
    $("btn-mute").addEventListener("click", function () { setMuted(audioTrack && audioTrack.enabled); });
    $("btn-leave").addEventListener("click", function () { leave(false); });
    $("btn-rejoin").addEventListener("click", function () { window.location.reload(); });
    if (cfg.recording) recording(true);
    if ($("btn-consent")) {
      showConsent(cfg.consented);
      $("btn-consent").addEventListener("click", toggleConsent);
    }
    window.addEventListener("pagehide", function () { leave(true); });
    $("call-notice").addEventListener("click", function () {  // autoplay refused: a tap plays
      document.querySelectorAll(".tile video").forEach(function (v) { if (v.id !== "self-video") { v.muted = false; v.play().catch(function () {}); } });
    });
  }

  window.kangyangCall = {
    peers: async function () {
      var out = [];
      for (var id in peers) {
        var peer = peers[id], frames = 0;
        (await peer.pc.getStats()).forEach(function (s) {
          if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
        });
        out.push({id: +id, role: peer.info.role, framesDecoded: frames,
          connectionState: peer.pc.connectionState, restarts: peer.restarts || 0});
      }
      return out;
    },
    state: function () {
      return {me: me, joined: joinedCall, audioOnly: audioOnly, ended: ended, left: left, lastEventId: lastEventId};
    },
    setAudioOnly: setAudioOnly,
    dropStream: function () { if (streamAbort) streamAbort.abort(); },  // as a network drop would
  };

  if (!window.RTCPeerConnection || !navigator.mediaDevices || !window.fetch || !window.ReadableStream) {
    setStatus(T.unsupported);
    return;
  }
  wire();
  openLocal().then(join);

})();
