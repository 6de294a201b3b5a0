/* The device check: the caller's camera and microphone go to the media process's echo peer
   (POST /api/v1/device-check/offer, a complete SDP offer) and come straight back. The page
   shows the picture that comes back and a level meter of the sound that comes back (WebAudio
   AnalyserNode on the echoed audio), and says in plain words what to fix. No library, no
   build step. Test hook: window.kangyangCheck.state(). */
(function () {
  "use strict";
  var dataNode = document.getElementById("check-data");
  if (!dataNode) return;
  var cfg = JSON.parse(dataNode.textContent);
  var T = JSON.parse(document.getElementById("check-texts").textContent);
  var statusLine = document.getElementById("check-status");
  var problemList = document.getElementById("check-problems");
  var selfVideo = document.getElementById("check-self");
  var echoVideo = document.getElementById("check-echo");
  var meter = document.getElementById("check-level");
  var levelWords = document.getElementById("check-level-words");
  var againButton = document.getElementById("check-again");
  var GATHER_MS = 5000, SOUND_GRACE_MS = 8000, VIDEO_GRACE_MS = 10000, QUIET = 3;
  var run = null;  // the check in progress: {pc, local, audio, started, ...}

  function setStatus(key) { statusLine.textContent = T[key] || ""; }

  function problem(key, on) {
    var item = problemList.querySelector('[data-problem="' + key + '"]');
    if (on === false) { if (item) item.remove(); return; }
    if (item) return;
    item = document.createElement("li");
    item.setAttribute("data-problem", key);
    item.textContent = T[key];
    problemList.appendChild(item);
  }

  function problems() {
    return Array.prototype.map.call(problemList.children, function (li) {
      return li.getAttribute("data-problem");
    });
  }

  function tryMedia(constraints) {
    return navigator.mediaDevices.getUserMedia(constraints).then(
      function (stream) { return {stream: stream}; },
      function (err) { return {error: err.name || "Error"}; });
  }

  function explain(error, kind) {
    if (error === "NotAllowedError" || error === "SecurityError") return "denied";
    if (error === "NotReadableError" || error === "AbortError") return "in_use";
    return kind === "video" ? "no_camera" : "no_microphone";
  }

  // Both devices at once; when that fails, each alone, to say which one is the trouble.
  async function openDevices() {
    var both = await tryMedia({audio: true, video: true});
    if (both.stream) return both.stream;
    if (explain(both.error) === "denied") { problem("denied"); return null; }
    var stream = new MediaStream();
    var audio = await tryMedia({audio: true});
    var video = await tryMedia({video: true});
    [[audio, "audio"], [video, "video"]].forEach(function (pair) {
      if (pair[0].stream) pair[0].stream.getTracks().forEach(function (t) { stream.addTrack(t); });
      else problem(explain(pair[0].error, pair[1]));
    });
    return stream.getTracks().length ? stream : null;
  }

  function gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, GATHER_MS);  // send what was found by then
      pc.addEventListener("icegatheringstatechange", function () {
        if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  async function askEcho(offer) {
    var headers = {"Content-Type": "application/json"};
    if (cfg.token) headers["X-Join-Token"] = cfg.token;
    if (cfg.csrf) headers["X-CSRFToken"] = cfg.csrf;
    var response;
    try {
      response = await fetch(cfg.offer_url, {
        method: "POST", headers: headers, credentials: "same-origin",
        body: JSON.stringify({sdp: offer.sdp, type: offer.type}),
      });
    } catch (err) {
      return {problem: "unavailable"};
    }
    if ([401, 403, 404, 410].indexOf(response.status) >= 0) return {problem: "refused"};
    if (!response.ok) return {problem: "unavailable"};
    return {answer: await response.json()};
  }

  function listen(stream) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || run.analyser) return;
    run.audioContext = new Context();
    run.analyser = run.audioContext.createAnalyser();
    run.analyser.fftSize = 1024;
    run.audioContext.createMediaStreamSource(stream).connect(run.analyser);
    run.samples = new Uint8Array(run.analyser.fftSize);
    if (run.audioContext.state === "suspended") run.audioContext.resume();
  }

  function level() {
    if (!run || !run.analyser) return 0;
    run.analyser.getByteTimeDomainData(run.samples);
    var sum = 0;
    for (var i = 0; i < run.samples.length; i++) {
      var v = (run.samples[i] - 128) / 128;
      sum += v * v;
    }
    return Math.min(100, Math.round(Math.sqrt(sum / run.samples.length) * 300));
  }

  async function framesBack() {
    if (!run || !run.pc) return 0;
    var frames = 0;
    (await run.pc.getStats()).forEach(function (s) {
      if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded || 0;
    });
    return frames;
  }

  async function watch() {
    if (!run || run.stopped) return;
    var now = Date.now(), current = level();
    // The meter holds a peak for a moment and lets it fall: a short sound stays readable.
    run.shown = Math.max(current, Math.round((run.shown || 0) * 0.85));
    meter.value = run.shown;
    run.maxLevel = Math.max(run.maxLevel, current);
    levelWords.textContent = run.shown >= 15 ? T.level_good
      : run.shown >= QUIET || run.heard ? T.level_low : T.level_none;
    if (current >= QUIET) { run.heard = true; problem("no_sound", false); }
    var frames = await framesBack();
    if (frames > run.frames && echoVideo.videoWidth > 0) {
      run.frames = frames;
      run.seenVideo = true;
      problem("no_video_back", false);
    }
    var connectedFor = run.connectedAt ? now - run.connectedAt : 0;
    if (run.hasAudio && !run.heard && connectedFor > SOUND_GRACE_MS) problem("no_sound");
    if (run.hasVideo && !run.seenVideo && now - run.started > VIDEO_GRACE_MS) problem("no_video_back");
    if (run.seenVideo && run.heard) setStatus("all_good");
    else if (run.seenVideo) setStatus("video_ok");
  }

  function stop() {
    if (!run) return;
    run.stopped = true;
    clearInterval(run.timer);
    if (run.pc) run.pc.close();
    if (run.local) run.local.getTracks().forEach(function (t) { t.stop(); });
    if (run.audioContext) run.audioContext.close();
    run = null;
  }

  async function start() {
    stop();
    problemList.textContent = "";
    run = {started: Date.now(), maxLevel: 0, frames: 0};
    var mine = run;
    againButton.hidden = false;
    setStatus("starting");
    var local = await openDevices();
    if (mine !== run) return;
    if (!local) { setStatus(""); return; }
    run.local = local;
    run.hasAudio = local.getAudioTracks().length > 0;
    run.hasVideo = local.getVideoTracks().length > 0;
    selfVideo.srcObject = local;
    var pc = run.pc = new RTCPeerConnection({iceServers: cfg.ice_servers || []});
    local.getTracks().forEach(function (t) { pc.addTransceiver(t, {direction: "sendrecv", streams: [local]}); });
    var echoed = new MediaStream();
    echoVideo.srcObject = echoed;
    pc.ontrack = function (event) {
      echoed.addTrack(event.track);
      if (event.track.kind === "audio") listen(echoed);
      echoVideo.play().catch(function () { echoVideo.muted = true; echoVideo.play().catch(function () {}); });
    };
    pc.onconnectionstatechange = function () {
      if (pc.connectionState === "connected" && !mine.connectedAt) mine.connectedAt = Date.now();
      if (pc.connectionState === "failed") problem("unavailable");
    };
    setStatus("connecting");
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (mine !== run) return;
    var asked = await askEcho(pc.localDescription);
    if (mine !== run) return;
    if (asked.problem) { problem(asked.problem); setStatus(""); return; }
    await pc.setRemoteDescription(asked.answer);
    setStatus("working");
    run.timer = setInterval(watch, 300);
  }

  if (!window.RTCPeerConnection || !navigator.mediaDevices || !window.fetch) {
    statusLine.textContent = T.unsupported;
    return;
  }
  againButton.addEventListener("click", function () { start(); });
  // A tap anywhere lets the browser play the echoed sound where autoplay was refused.
  document.addEventListener("click", function () {
    if (run && run.audioContext && run.audioContext.state === "suspended") run.audioContext.resume();
    if (echoVideo.muted) { echoVideo.muted = false; echoVideo.play().catch(function () {}); }
  });
  window.addEventListener("pagehide", stop);

  window.kangyangCheck = {
    state: async function () {
      return {
        videoWidth: echoVideo.videoWidth,
        framesDecoded: await framesBack(),
        level: level(),
        maxLevel: run ? run.maxLevel : 0,
        connectionState: run && run.pc ? run.pc.connectionState : "closed",
        problems: problems(),
      };
    },
  };
  start();
})();
