// Tafweej gate page: scans go to POST /v1/scans, the same decision as the
// NATS gate responder; holds and closures arrive over /web/events.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const store = {
    get key() { return localStorage.getItem("tafweej.gate.key") || ""; },
    set key(v) { localStorage.setItem("tafweej.gate.key", v); },
    get gate() { return localStorage.getItem("tafweej.gate.gate") || ""; },
    set gate(v) { localStorage.setItem("tafweej.gate.gate", v); },
    get device() {
      let d = localStorage.getItem("tafweej.device");
      if (!d) {
        d = "web-" + Math.random().toString(36).slice(2, 8);
        localStorage.setItem("tafweej.device", d);
      }
      return d;
    },
  };

  const holds = new Map();    // zone -> hold event data
  const closures = new Map(); // closure id -> closure
  let stream = null;
  let pending = null;         // the scan in flight: {body, attempt}
  let lastResult = null;
  let alertKey = "";          // the key of the message in #alert, to re-translate it

  function showAlert(key) {
    alertKey = key;
    $("alert").hidden = !key;
    $("alert").textContent = key ? TF.t(key) : "";
    $("alert").dataset.msg = key;
  }

  function gateName(id) {
    const g = (TF.site.gates || []).find((x) => x.id === id);
    return g ? TF.text(g.name) : id;
  }
  function zoneName(id) {
    const z = (TF.site.zones || []).find((x) => x.id === id);
    return z ? TF.text(z.name) : id;
  }

  // ---- setup ----

  function showSetup(message) {
    $("console").hidden = true;
    $("settings").hidden = true;
    $("setup").hidden = false;
    const sel = $("gate-select");
    sel.replaceChildren(...TF.site.gates.map((g) => TF.el("option", { value: g.id, selected: g.id === store.gate }, TF.text(g.name))));
    $("key").value = "";
    showAlert(message || "");
    $("key").focus();
  }

  async function saveSetup(ev) {
    ev.preventDefault();
    const key = $("key").value.trim();
    const verdict = await TF.checkKey(key);
    if (verdict !== "ok") {
      showAlert(verdict === "wrong" ? "wrong_key" : verdict === "forbidden" ? "forbidden_key" : "unreachable");
      $("key").focus();
      return;
    }
    store.key = key;
    store.gate = $("gate-select").value;
    showAlert("");
    start();
  }

  // ---- console ----

  function start() {
    $("setup").hidden = true;
    $("console").hidden = false;
    $("settings").hidden = false;
    $("gate-name").textContent = gateName(store.gate);
    if (stream) stream.close();
    stream = TF.stream(store.key, onEvent, onConn);
    seed();
    renderWaves();
    TFOffline.start({ key: store.key, gate: store.gate, device: store.device });
    $("ticket").focus();
  }

  function onConn(state) {
    const c = $("conn");
    c.dataset.state = state;
    if (state === "wrong" || state === "forbidden") {
      if (stream) stream.close();
      showSetup(state === "wrong" ? "wrong_key" : "forbidden_key");
      return;
    }
    c.textContent = TF.t(state === "live" ? "live" : state === "connecting" ? "connecting" : "offline");
    if (state === "live") { seed(); if (alertKey === "unreachable") showAlert(""); }
  }

  // seed reads the holds and closures in force where the key may read
  // GET /v1/status; events keep them current afterwards.
  async function seed() {
    try {
      const r = await TF.api("GET", "/v1/status", store.key);
      if (r.status !== 200 || !r.body) return;
      holds.clear();
      for (const z of r.body.zones || []) if (z.held) holds.set(z.zone, { zone: z.zone, live: z.live });
      closures.clear();
      for (const c of r.body.closures || []) closures.set(c.id, c);
      renderBanners();
    } catch (e) { /* offline: the stream state says so */ }
  }

  function onEvent(ev) {
    const d = ev.data || {};
    switch (ev.kind) {
      case "wave.held":
        if (!d.gates || d.gates.length === 0 || d.gates.includes(store.gate)) holds.set(d.zone, d);
        break;
      case "wave.released":
        if (d.zone) holds.delete(d.zone);
        break;
      case "zone.closed":
        closures.set(d.id, d);
        break;
      case "zone.reopened":
        closures.delete(d.id);
        break;
      default:
        return;
    }
    renderBanners();
  }

  function renderBanners() {
    const out = [];
    for (const h of holds.values()) {
      out.push(TF.el("div", { class: "banner hold", role: "alert", "data-kind": "hold", "data-zone": h.zone },
        TF.el("strong", {}, "‖ "), TF.t("hold_banner", { zone: zoneName(h.zone), live: h.live ?? "" })));
    }
    for (const c of closures.values()) {
      const zones = c.zones && c.zones.length ? c.zones.map(zoneName).join("، ") : TF.t("all_zones");
      out.push(TF.el("div", { class: "banner closure", role: "alert", "data-kind": "closure", "data-id": c.id },
        TF.el("strong", {}, "✗ "), TF.t("closure_banner", { zones, reason: c.reason || "—" })));
    }
    $("banners").replaceChildren(...out);
  }

  // renderWaves announces the current and next wave by the service's clock.
  function renderWaves() {
    const s = TF.site;
    if (!s || !$("waves")) return;
    const now = new Date(Date.now() + (s.offset || 0));
    if (!s.today) { $("waves").textContent = TF.t("site_shut"); return; }
    // Slots start at opening time; work in site minutes of the day.
    const [oh, om] = s.today.open.split(":").map(Number);
    const [lh, lm] = s.today.last_entry.split(":").map(Number);
    const local = TF.time(now.toISOString()).split(":").map(Number);
    const minute = local[0] * 60 + local[1];
    const open = oh * 60 + om, last = lh * 60 + lm, step = s.slot_minutes;
    if (minute > last) { $("waves").textContent = TF.t("site_shut"); return; }
    const cur = minute < open ? null : open + Math.floor((minute - open) / step) * step;
    const next = cur === null ? open : cur + step;
    const fmt = (m) => String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0");
    const parts = [];
    if (cur !== null) parts.push(TF.t("current_wave") + " " + fmt(cur));
    if (next <= last) parts.push(TF.t("next_wave") + " " + fmt(next));
    $("waves").textContent = parts.join(" · ");
  }

  // ---- scans ----

  function newScanID() {
    const r = new Uint8Array(6);
    crypto.getRandomValues(r);
    return store.device + "-" + Date.now().toString(36) + "-" + Array.from(r, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function submitScan(ev) {
    if (ev) ev.preventDefault();
    const ticket = $("ticket").value.trim();
    if (!ticket) { $("ticket").focus(); return; }
    if (pending) { setStatus(TF.t("busy")); return; }
    const count = Math.max(1, parseInt($("count").value, 10) || 1);
    pending = { body: { gate: store.gate, ticket, count, scan_id: newScanID(), device: store.device }, attempt: 0 };
    $("ticket").value = "";
    $("count").value = "1";
    send();
  }

  function setStatus(text) { $("status").textContent = text; }

  const backoff = [500, 1000, 2000, 4000, 8000];

  // send sends the pending scan; on a network error or 503 it sends the
  // same body, scan_id included, again after a pause.
  async function send() {
    const p = pending;
    if (!p) return;
    p.attempt++;
    $("retry").hidden = true;
    setStatus(p.attempt === 1 ? TF.t("pending") : TF.t("retrying", { n: p.attempt }));
    let r;
    try {
      // Within the timeout, or decided offline (offline.js).
      r = await TFOffline.scan(p.body);
      if (!r) {
        pending = null;
        setStatus("");
        showResult(await TFOffline.decide(p.body));
        $("ticket").focus();
        return;
      }
    } catch (e) {
      r = null; // network
    }
    if (r && r.status === 200) {
      pending = null;
      setStatus("");
      showAlert("");
      showResult(r.body);
      $("ticket").focus();
      return;
    }
    if (r && r.status === 401) {
      pending = null;
      setStatus("");
      if (stream) stream.close();
      showSetup("wrong_key");
      return;
    }
    if (r && (r.status === 400 || r.status === 403 || r.status === 429)) {
      pending = null;
      const msg = (r.body && r.body.error && r.body.error.message) || TF.t(r.status === 429 ? "rate_limited" : "bad_request");
      setStatus(msg);
      $("ticket").focus();
      return;
    }
    // Network error, 503 or another server failure: same scan_id again.
    if (p.attempt <= backoff.length) {
      setStatus(TF.t("retrying", { n: p.attempt + 1 }));
      if (!r) showAlert("unreachable");
      setTimeout(send, backoff[p.attempt - 1]);
      return;
    }
    setStatus(TF.t("gave_up"));
    showAlert("unreachable");
    $("retry").hidden = false;
    $("retry").focus();
  }

  function retryNow() {
    if (!pending) return;
    pending.attempt = 0;
    send();
  }

  function showResult(res) {
    lastResult = res;
    const box = $("result");
    box.hidden = false;
    box.className = "result " + res.decision;
    box.dataset.decision = res.decision;
    box.dataset.reason = res.reason;
    box.dataset.offline = res.offline ? "1" : "";
    const sym = { admit: "✓", partial: "◐", reject: "✗" }[res.decision] || "?";
    $("decision").textContent = sym + " " + TF.t(res.decision);
    const msg = res.message ? TF.text(res.message) : "";
    const why = TF.reason(res.reason);
    $("reason").textContent = !msg ? why : msg.startsWith(why) ? msg : why + " — " + msg;
    const rows = [];
    const row = (k, v, cls) => { if (v !== undefined && v !== null && v !== "") rows.push(TF.el("div", { class: cls || "" }, TF.el("dt", {}, TF.t(k)), TF.el("dd", {}, String(v)))); };
    if (res.decision !== "reject" || res.admitted) row("admitted", res.admitted, "big");
    if (res.booking && res.reason !== "cancelled") row("remaining", res.remaining, "big");
    row("party", res.party_size || "");
    row("operator", res.operator, "id");
    row("language", res.language);
    if (res.slot) row("wave", TF.time(res.slot) + (res.gate && res.gate !== store.gate ? " · " + gateName(res.gate) : ""));
    if (res.retry_at) row("retry_at", TF.time(res.retry_at), "big");
    row("booking", res.booking, "wide id");
    $("details").replaceChildren(...rows);
  }

  // ---- camera (BarcodeDetector where the browser has it) ----

  let cam = null;
  async function toggleCamera() {
    if (cam) { stopCamera(); return; }
    try {
      const media = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      const video = $("preview");
      video.srcObject = media;
      video.hidden = false;
      await video.play();
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      cam = { media, timer: null };
      $("camera").textContent = TF.t("camera_stop");
      const tick = async () => {
        if (!cam) return;
        try {
          const codes = await detector.detect(video);
          if (codes.length && !pending) {
            $("ticket").value = codes[0].rawValue;
            stopCamera();
            submitScan();
            return;
          }
        } catch (e) { /* frame not ready */ }
        cam.timer = setTimeout(tick, 250);
      };
      tick();
    } catch (e) {
      stopCamera();
      setStatus(TF.t("camera_error") + ": " + e.message);
    }
  }
  function stopCamera() {
    if (cam) {
      clearTimeout(cam.timer);
      cam.media.getTracks().forEach((t) => t.stop());
    }
    cam = null;
    $("preview").hidden = true;
    $("camera").textContent = TF.t("camera");
  }

  // ---- boot ----

  function relabel() {
    TF.applyLang();
    $("lang").textContent = TF.t("lang_switch");
    $("lang").lang = TF.lang === "ar" ? "en" : "ar";
    document.title = TF.t("title_gate");
    if (TF.site && store.gate && !$("console").hidden) $("gate-name").textContent = gateName(store.gate);
    if (alertKey) showAlert(alertKey);
    const c = $("conn");
    if (c.dataset.state) c.textContent = TF.t(c.dataset.state === "live" ? "live" : c.dataset.state === "connecting" ? "connecting" : "offline");
    renderBanners();
    renderWaves();
    if (lastResult) showResult(lastResult);
    if (cam) $("camera").textContent = TF.t("camera_stop");
  }

  async function boot() {
    relabel();
    $("lang").addEventListener("click", () => { TF.toggleLang(); relabel(); });
    $("setup").addEventListener("submit", saveSetup);
    $("scan").addEventListener("submit", submitScan);
    $("retry").addEventListener("click", retryNow);
    $("settings").addEventListener("click", () => { if (stream) stream.close(); showSetup(""); });
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      $("camera").hidden = false;
      $("camera").addEventListener("click", toggleCamera);
    }
    for (;;) {
      try { await TF.loadSite(); break; } catch (e) {
        showAlert("unreachable");
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    showAlert("");
    relabel();
    setInterval(renderWaves, 5000);
    setInterval(() => TF.loadSite().then(renderWaves).catch(() => {}), 60000);
    const link = await TF.claimLink();
    if (link) { store.key = link.key; if (link.gate) store.gate = link.gate; }
    if (!store.key || !TF.site.gates.some((g) => g.id === store.gate)) { showSetup(""); return; }
    start();
  }

  document.addEventListener("DOMContentLoaded", boot);
})();
