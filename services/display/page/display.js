// Hall screen: follows /ws/{branch} forever, shows the latest calls and speaks them.
// No build step, no network beyond this service. State for tests: window.antrian.
(function () {
  "use strict";

  var parts = location.pathname.split("/");
  var branch = decodeURIComponent(parts[parts.indexOf("display") + 1] || "");
  // No URLSearchParams: many TV browsers are old.
  function param(name) {
    var m = new RegExp("[?&]" + name + "=([^&#]*)").exec(location.search);
    return m ? decodeURIComponent(m[1].replace(/\+/g, " ")) : null;
  }
  var zone = param("zone");
  var kiosk = param("kiosk") === "1";
  // A stream silent for a little over two heartbeats is dead; the snapshot says how often they come.
  function staleAfter(heartbeatSeconds) { return (2 * heartbeatSeconds + 5) * 1000; }
  var STALE_MS = staleAfter(20); // until the first snapshot tells
  // Every call is spoken, in order, even when the whole hall calls at once; only a call
  // that has waited three minutes (its citizen has long read the screen) is skipped, and
  // while several wait the chime is left out so the voice catches up.
  var MAX_QUEUE = 40;
  var MAX_AGE_MS = 180000;

  var state = { snapshot: null, counters: {}, calls: [], waiting: null, counters_open: 0, timezone: "Asia/Makassar" };
  var api = (window.antrian = {
    connected: false, lastSeq: 0, resyncs: 0, messages: 0, spoken: [], soundEnabled: kiosk, state: state,
    staleMs: STALE_MS,
    pending: function () { return queue.map(function (c) { return c.announcement; }); },
  });

  var $ = function (id) { return document.getElementById(id); };
  var STATUS_TEXT = {
    called: "Dipanggil", serving: "Dilayani", completed: "Selesai", no_show: "Tidak hadir",
    transferred: "Dialihkan", paused: "Istirahat", closed: "Tutup", open: "Buka",
  };

  // ---- rendering -------------------------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // Indonesia's zones have no daylight saving, so the hall's wall clock is UTC plus a fixed offset;
  // this works on TV browsers whose Intl lacks time zones (or Indonesian).
  var OFFSETS = { "Asia/Jakarta": 7, "Asia/Pontianak": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9 };
  var DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
  var MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function wall(date) {
    var hours = OFFSETS[state.timezone];
    if (hours === undefined) return null;
    return new Date(date.getTime() + hours * 3600000); // read with getUTC*()
  }
  function clockText(date) {
    var w = wall(date);
    if (w) return two(w.getUTCHours()) + "." + two(w.getUTCMinutes());
    return new Intl.DateTimeFormat("id-ID", { timeZone: state.timezone, hour: "2-digit", minute: "2-digit", hour12: false }).format(date);
  }
  function dateText(date) {
    var w = wall(date);
    if (w) return DAYS[w.getUTCDay()] + ", " + w.getUTCDate() + " " + MONTHS[w.getUTCMonth()] + " " + w.getUTCFullYear();
    return new Intl.DateTimeFormat("id-ID", { timeZone: state.timezone, weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(date);
  }

  function timeOf(iso) {
    try { return clockText(new Date(iso)); } catch (e) { return ""; }
  }

  function naturalKey(name) { return name.replace(/\d+/g, function (d) { return ("000000" + d).slice(-6); }); }

  function renderCounters(fresh) {
    var box = $("counters");
    box.textContent = "";
    var list = Object.keys(state.counters).map(function (k) { return state.counters[k]; });
    list.sort(function (a, b) { return naturalKey(a.name) < naturalKey(b.name) ? -1 : 1; });
    list.forEach(function (c) {
      var kind = c.status !== "open" ? c.status : (c.ticket_status === "called" ? "called"
        : c.ticket_status === "serving" ? "serving" : (c.number ? "done" : "idle"));
      var card = el("div", "counter " + kind + (fresh === c.counter_id ? " fresh" : ""));
      card.dataset.counterId = c.counter_id;
      var status = c.status !== "open" ? STATUS_TEXT[c.status] : (STATUS_TEXT[c.ticket_status] || "Siap");
      card.appendChild(el("div", "name", c.name));
      card.appendChild(el("div", "number", c.status === "closed" ? "—" : (c.number || "—")));
      card.appendChild(el("div", "status", status));
      box.appendChild(card);
    });
    fitCounters(list.length);
  }

  // Choose the column count that makes the cards largest while all of them fit.
  function fitCounters(n) {
    var box = $("counters");
    if (!n) return;
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    var gap = rem, baseW = 16.5 * rem, baseH = 10.4 * rem;
    var W = box.clientWidth, H = box.clientHeight;
    var best = { scale: 0, cols: 1, height: baseH };
    for (var cols = 1; cols <= n; cols++) {
      var rows = Math.ceil(n / cols);
      var cw = (W - gap * (cols - 1)) / cols, ch = (H - gap * (rows - 1)) / rows;
      var scale = Math.min(cw / baseW, ch / baseH, 1.3);
      if (scale > best.scale) best = { scale: scale, cols: cols, height: Math.min(ch, baseH * 1.3) };
    }
    box.style.gridTemplateColumns = "repeat(" + best.cols + ", minmax(0, 1fr))";
    box.style.gridAutoRows = Math.floor(best.height) + "px";
    box.style.setProperty("--scale", best.scale.toFixed(3));
  }

  function renderCalls() {
    var box = $("calls");
    box.textContent = "";
    if (!state.calls.length) { box.appendChild(el("li", "empty", "Belum ada panggilan hari ini")); }
    state.calls.forEach(function (call) {
      var li = el("li");
      li.appendChild(el("span", "num", call.number));
      var where = el("span", "where", call.counter_name);
      if (call.recall) where.appendChild(el("span", "recall", "ULANG"));
      li.appendChild(where);
      li.appendChild(el("span", "time", timeOf(call.time)));
      box.appendChild(li);
    });
    trim(box);
  }

  // Drop list items that would be cut off at the bottom of their panel.
  function trim(box) {
    while (box.children.length > 1 && box.scrollHeight > box.clientHeight + 1) box.removeChild(box.lastChild);
  }

  function renderWaiting() {
    var box = $("waiting");
    box.textContent = "";
    var waiting = state.waiting || { agencies: [], total: 0 };
    $("waiting-total").textContent = waiting.total;
    if (!waiting.agencies.length) { box.appendChild(el("li", "empty", "Tidak ada antrian menunggu")); }
    waiting.agencies.forEach(function (a) {
      var li = el("li");
      li.appendChild(el("span", "agency", a.name));
      li.appendChild(el("span", "count", a.waiting));
      box.appendChild(li);
    });
    trim(box);
    $("open-counters").textContent = state.counters_open + " loket buka";
  }

  function renderBanner(call, flash) {
    var banner = $("banner");
    if (!call) {
      $("banner-number").textContent = "—";
      $("banner-counter").textContent = "Belum ada panggilan";
      $("banner-agency").textContent = "";
      $("banner-label").textContent = "Nomor antrian";
      return;
    }
    $("banner-number").textContent = call.number;
    $("banner-counter").textContent = call.counter_name;
    $("banner-agency").textContent = call.agency_name || "";
    $("banner-label").textContent = call.recall ? "Panggilan ulang" : "Nomor antrian";
    fitBanner();
    if (flash) {
      banner.classList.remove("flash");
      void banner.offsetWidth; // restart the animation
      banner.classList.add("flash");
    }
  }

  function fitBanner() {
    var row = document.querySelector(".banner-call");
    row.style.setProperty("--fit", "1");
    if (row.scrollWidth > row.clientWidth) {
      row.style.setProperty("--fit", Math.max(0.45, (row.clientWidth / row.scrollWidth) * 0.97).toFixed(3));
    }
  }

  function renderAll() {
    renderCounters(null);
    renderCalls();
    renderWaiting();
    renderBanner(state.calls[0], false);
  }

  // ---- clock -----------------------------------------------------------------------------
  function tick() {
    var now = new Date();
    try {
      $("clock").textContent = clockText(now);
      $("date").textContent = dateText(now);
    } catch (e) { /* an unknown time zone: keep the last value */ }
  }

  // ---- messages --------------------------------------------------------------------------
  function applySnapshot(snap) {
    state.snapshot = snap;
    state.counters = {};
    snap.counters.forEach(function (c) { state.counters[c.counter_id] = c; });
    state.calls = snap.calls.slice();
    state.waiting = snap.waiting;
    state.counters_open = snap.counters_open;
    if (snap.hall) {
      state.timezone = snap.hall.timezone || state.timezone;
      // null until ticketing described the hall: show nothing rather than a made-up name
      $("hall-name").textContent = snap.hall.name || "";
      document.title = snap.hall.name ? "Antrian · " + snap.hall.name : "Antrian";
    }
    if (typeof snap.heartbeat_seconds === "number" && snap.heartbeat_seconds > 0) {
      STALE_MS = staleAfter(snap.heartbeat_seconds);
    }
    api.staleMs = STALE_MS;
    api.lastSeq = snap.seq;
    renderAll();
    tick();
  }

  // A supervisor's running text (until its end time) or an announcement spoken once.
  var marqueeTimer = null;
  function showAnnouncement(a) {
    api.announcements = (api.announcements || []).concat([a]);
    if (a.mode === "speak_once") {
      announce({ announcement: a.text, audio_url: a.audio_url || null });
      return;
    }
    $("marquee-text").textContent = a.text;
    $("marquee").hidden = false;
    if (marqueeTimer) clearTimeout(marqueeTimer);
    if (a.until) {
      var left = Date.parse(a.until) - Date.now();
      marqueeTimer = setTimeout(function () { $("marquee").hidden = true; }, Math.max(0, left));
    }
  }

  function applyChange(msg) {
    if (msg.hall_announcement) showAnnouncement(msg.hall_announcement);
    if (msg.counter) state.counters[msg.counter.counter_id] = msg.counter;
    if (msg.waiting) state.waiting = msg.waiting;
    if (typeof msg.counters_open === "number") state.counters_open = msg.counters_open;
    if (msg.call) {
      state.calls.unshift(msg.call);
      state.calls = state.calls.slice(0, 10);
      renderBanner(msg.call, true);
      renderCalls();
      announce(msg.call);
    }
    renderCounters(msg.call ? msg.counter_id : null);
    renderWaiting();
  }

  function onMessage(event) {
    var msg;
    try { msg = JSON.parse(event.data); } catch (e) { return; }
    lastHeard = Date.now();
    api.messages += 1;
    if (msg.type === "snapshot") { applySnapshot(msg); return; }
    if (msg.type === "heartbeat") return;
    if (typeof msg.seq !== "number" || msg.seq <= api.lastSeq) return; // a duplicate
    if (typeof msg.prev_seq === "number" && msg.prev_seq > api.lastSeq) { resync(); return; } // a gap
    api.lastSeq = msg.seq;
    applyChange(msg);
  }

  // ---- connection: forever, with backoff -------------------------------------------------
  var socket = null;
  var attempt = 0;
  var lastHeard = 0;
  var retryTimer = null;

  function wsUrl() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + "/ws/" + encodeURIComponent(branch) + (zone ? "?zone=" + encodeURIComponent(zone) : "");
  }

  function setOnline(online) {
    api.connected = online;
    $("offline").hidden = online;
    document.body.classList.toggle("is-offline", !online);
  }

  function connect() {
    retryTimer = null;
    var ws;
    try { ws = new WebSocket(wsUrl()); } catch (e) { scheduleReconnect(); return; }
    socket = ws;
    ws.onopen = function () { attempt = 0; lastHeard = Date.now(); setOnline(true); };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      setOnline(false);
      scheduleReconnect();
    };
    ws.onerror = function () { /* onclose follows */ };
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  }

  function resync() {
    api.resyncs += 1;
    var old = socket;
    socket = null;
    if (old) { old.onclose = null; old.close(); }
    connect();
  }

  setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastHeard > STALE_MS) resync();
  }, 5000);

  // ---- voice: chime, then speech, one after another --------------------------------------
  var queue = [];
  var speaking = false;
  var audioCtx = null;

  function chime() {
    return new Promise(function (resolve) {
      try {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) return resolve();
        audioCtx = audioCtx || new Ctx();
        var t = audioCtx.currentTime + 0.05;
        [[659.25, 0], [523.25, 0.45], [392.0, 0.9]].forEach(function (tone) {
          var osc = audioCtx.createOscillator();
          var gain = audioCtx.createGain();
          osc.type = "sine";
          osc.frequency.value = tone[0];
          gain.gain.setValueAtTime(0.0001, t + tone[1]);
          gain.gain.exponentialRampToValueAtTime(0.5, t + tone[1] + 0.03);
          gain.gain.exponentialRampToValueAtTime(0.0001, t + tone[1] + 0.8);
          osc.connect(gain).connect(audioCtx.destination);
          osc.start(t + tone[1]);
          osc.stop(t + tone[1] + 0.85);
        });
        setTimeout(resolve, 1900);
      } catch (e) { resolve(); }
    });
  }

  function indonesianVoice() {
    if (!("speechSynthesis" in window)) return null;
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if (/^id([-_]|$)/i.test(voices[i].lang)) return voices[i];
    }
    return null;
  }

  function speak(call) {
    return new Promise(function (resolve) {
      var done = false;
      var finish = function () { if (!done) { done = true; resolve(); } };
      setTimeout(finish, 20000); // some TV engines never report the end
      var voice = indonesianVoice();
      if (voice) {
        var u = new SpeechSynthesisUtterance(call.announcement);
        u.lang = "id-ID";
        u.voice = voice;
        u.rate = 0.9;
        u.onend = finish;
        u.onerror = finish;
        window.speechSynthesis.speak(u);
        return;
      }
      if (!call.audio_url) return finish();
      var audio = new Audio(call.audio_url);
      audio.onended = finish;
      audio.onerror = finish;
      var played = audio.play();
      if (played && played.catch) played.catch(finish);
    });
  }

  function pump() {
    while (queue.length && Date.now() - queue[0].queuedAt > MAX_AGE_MS) queue.shift();
    if (speaking || !queue.length) return;
    speaking = true;
    var call = queue.shift();
    var ring = queue.length >= 2 ? Promise.resolve() : chime();
    api.spoken.push({ text: call.announcement, at: Date.now(), mode: indonesianVoice() ? "speech" : "audio" });
    ring.then(function () { return speak(call); }).then(function () {
      speaking = false;
      setTimeout(pump, 400);
    });
  }

  function announce(call) {
    if (!api.soundEnabled || !call.announcement) return;
    if (queue.length >= MAX_QUEUE) queue.shift();
    call.queuedAt = Date.now();
    queue.push(call);
    pump();
  }

  function enableSound() {
    api.soundEnabled = true;
    $("sound-prompt").hidden = true;
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) { audioCtx = audioCtx || new Ctx(); audioCtx.resume(); }
    } catch (e) { /* no Web Audio: speech alone */ }
  }

  if (!kiosk) {
    $("sound-prompt").hidden = false;
    $("sound-prompt").addEventListener("click", enableSound, { once: true });
    document.addEventListener("keydown", enableSound, { once: true });
  }
  if ("speechSynthesis" in window) window.speechSynthesis.getVoices();

  window.addEventListener("resize", function () { renderAll(); });
  tick();
  setInterval(tick, 1000);
  setOnline(false);
  $("offline").hidden = true; // not "offline" before the first attempt
  connect();
})();
