// Tafweej gate console, offline side (docs/offline-gates.md). When a scan's
// request fails or does not answer within the timeout, the page decides on
// its own from the day's manifest (GET /v1/gates/{gate}/manifest) and its
// own log kept in IndexedDB, and uploads what it admitted
// (POST /v1/scans/offline) as soon as the service answers again.
//
// decideOffline mirrors scheduler.DecideOffline (scheduler/offline.go), the
// service's own offline rules: change both together. The property test
// TestOfflineGateNeverAdmitsWhatTheServiceRefusesProvably checks the Go one
// against the service's decisions.
//
// Settings (localStorage): tafweej.offline.timeout_ms (default 1500),
// tafweej.offline.share (the gate's offline share of a wave, default 1).
"use strict";

const TFOffline = (() => {
  const num = (k, d) => { const v = parseFloat(localStorage.getItem(k)); return Number.isFinite(v) && v > 0 ? v : d; };
  const cfg = {
    get timeout() { return num("tafweej.offline.timeout_ms", 1500); },
    get share() { return num("tafweej.offline.share", 1); },
  };
  let key = "", gate = "", device = "";
  let manifest = null;     // the last manifest (also in IndexedDB)
  let offline = localStorage.getItem("tafweej.offline.state") === "offline";
  let waiting = 0;         // queued scans not yet uploaded
  let report = null;       // the last reconciliation report
  let probe = null, poll = null, flushing = false;
  let onChange = () => {};

  // ---- IndexedDB: "meta" (the manifest), "scans" (the offline log) ----
  let dbp = null;
  function db() {
    if (!dbp) dbp = new Promise((resolve, reject) => {
      const r = indexedDB.open("tafweej-gate", 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore("meta");
        r.result.createObjectStore("scans", { keyPath: "scan_id" });
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    return dbp;
  }
  async function tx(store, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(store, mode);
      const s = t.objectStore(store);
      let out;
      const r = fn(s);
      if (r) r.onsuccess = () => { out = r.result; };
      t.oncomplete = () => resolve(out);
      t.onerror = () => reject(t.error);
    });
  }
  const logAll = () => tx("scans", "readonly", (s) => s.getAll());

  // ---- time and tickets ----
  const now = () => new Date(Date.now() + ((TF.site && TF.site.offset) || 0));
  const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

  // verify checks a ticket code's Ed25519 signature and returns what it
  // claims, or {error: "invalid_signature"|"unknown_ticket"}.
  async function verify(code) {
    code = code.trim();
    if (!code.startsWith("TFW1.") || code.length > 512) return { error: "unknown_ticket" };
    const parts = code.slice(5).split(".");
    if (parts.length !== 2) return { error: "unknown_ticket" };
    let payload, sig;
    try { payload = b64(parts[0]); sig = b64(parts[1]); } catch (e) { return { error: "unknown_ticket" }; }
    const fields = new TextDecoder().decode(payload).split("|");
    if (fields.length !== 5 || sig.length !== 64) return { error: "unknown_ticket" };
    const pub = await crypto.subtle.importKey("raw", b64(manifest.ticket_key.key), { name: "Ed25519" }, false, ["verify"]);
    if (!await crypto.subtle.verify({ name: "Ed25519" }, pub, sig, payload)) return { error: "invalid_signature" };
    return { booking: fields[0], date: fields[1], slot: fields[2], gate: fields[3], party_size: parseInt(fields[4], 10) };
  }

  // decideOffline mirrors scheduler.DecideOffline.
  function decideOffline(m, log, t, count, at, share) {
    const reject = (reason) => ({ decision: "reject", reason, booking: t.booking, admitted: 0 });
    if (count < 1 || count > m.max_count) return reject("bad_request");
    let mine = 0;
    for (const a of log) if (a.booking === t.booking) mine += a.count;
    let e = m.bookings.find((b) => b.booking === t.booking);
    if (!e) {
      if (m.elsewhere.includes(t.booking)) return reject("wrong_gate");
      if (t.date !== m.date) return reject("wrong_day");
      if (t.gate !== m.gate) return reject("wrong_gate");
      const slot = new Date(t.slot).getTime();
      e = { booking: t.booking, party_size: t.party_size, wave: t.slot, admitted: 0, cancelled: false, closed: false,
        grace_from: new Date(slot - m.early_grace_minutes * 60000).toISOString(),
        grace_until: new Date(slot + m.late_grace_minutes * 60000).toISOString() };
    }
    const admitted = e.admitted + mine;
    const ms = at.getTime();
    if (e.cancelled) return reject("cancelled");
    if (ms < new Date(m.day_start).getTime() || ms >= new Date(m.day_end).getTime()) return reject("wrong_day");
    if (admitted >= e.party_size) return reject("already_used");
    if (e.closed) return reject("closed");
    if (ms < new Date(e.grace_from).getTime()) return reject("too_early");
    if (admitted === 0 && ms > new Date(e.grace_until).getTime()) return reject("too_late");
    const wave = new Date(e.wave).getTime();
    let inWave = 0;
    for (const a of log) if (new Date(a.wave).getTime() === wave) inWave += a.count;
    const limit = Math.floor(share * m.wave_capacity);
    const n = Math.min(count, e.party_size - admitted, limit - inWave);
    if (n <= 0) return reject("offline_limit");
    return { decision: n < count ? "partial" : "admit", reason: "ok", admitted: n, remaining: e.party_size - admitted - n,
      booking: e.booking, slot: e.wave, party_size: e.party_size };
  }

  // ---- exchanges with the service ----

  async function fetchTimed(method, path, body, extra) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), cfg.timeout);
    try {
      const init = { method, headers: Object.assign({ "Authorization": "Bearer " + key }, extra || {}), cache: "no-store", signal: ctl.signal };
      if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
      const r = await fetch(path, init);
      let data = null;
      if (r.status !== 304) { try { data = await r.json(); } catch (e) { data = null; } }
      return { status: r.status, body: data, etag: r.headers.get("ETag") };
    } finally { clearTimeout(timer); }
  }

  // scan sends a scan online. It resolves to {status, body}, or to null
  // when the service did not answer in time, the network failed or the
  // service failed (5xx): then the caller decides offline.
  async function scan(body) {
    if (offline) return null;
    let r = null;
    try { r = await fetchTimed("POST", "/v1/scans", body); } catch (e) { r = null; }
    if (!r || r.status >= 500) { goOffline(); return null; }
    if (r.status === 200 && r.body && r.body.admitted > 0 && manifest) {
      const e = manifest.bookings.find((b) => b.booking === r.body.booking);
      if (e) { e.admitted += r.body.admitted; tx("meta", "readwrite", (s) => s.put(manifest, "manifest")); }
    }
    return r;
  }

  async function refresh() {
    const q = "?device=" + encodeURIComponent(device) + "&waiting=" + waiting;
    const extra = manifest && manifest.gate === gate && manifest.version ? { "If-None-Match": '"' + manifest.version + '"' } : {};
    const r = await fetchTimed("GET", "/v1/gates/" + encodeURIComponent(gate) + "/manifest" + q, undefined, extra);
    if (r.status === 200 && r.body) {
      manifest = r.body;
      await tx("meta", "readwrite", (s) => s.put(manifest, "manifest"));
    } else if (r.status !== 304) {
      throw new Error("manifest " + r.status);
    }
    return r;
  }

  function goOffline() {
    if (!offline) {
      offline = true;
      localStorage.setItem("tafweej.offline.state", "offline");
      onChange();
    }
    clearInterval(probe);
    probe = setInterval(tryOnline, 2000);
  }

  async function tryOnline() {
    try { await refresh(); } catch (e) { return; }
    offline = false;
    localStorage.setItem("tafweej.offline.state", "online");
    clearInterval(probe);
    onChange();
    await flush();
  }

  // flush uploads the queued scans in order, in batches of 50.
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (;;) {
        const queued = (await logAll()).filter((x) => !x.uploaded).sort((a, b) => a.seq - b.seq);
        waiting = queued.length;
        if (!queued.length) break;
        const batch = queued.slice(0, 50);
        let r;
        try {
          r = await fetchTimed("POST", "/v1/scans/offline", { gate, device,
            scans: batch.map((x) => ({ scan_id: x.scan_id, ticket: x.ticket, count: x.count, at: x.at })) });
        } catch (e) { r = null; }
        if (!r || r.status >= 500) { goOffline(); break; }
        if (r.status !== 200) { report = { error: (r.body && r.body.error && r.body.error.message) || String(r.status) }; break; }
        report = mergeReport(report, r.body);
        await tx("scans", "readwrite", (s) => { for (const x of batch) s.delete(x.scan_id); });
      }
      if (!offline) await refresh().catch(() => {});
    } finally {
      flushing = false;
      onChange();
    }
  }

  function mergeReport(a, b) {
    if (!a || a.error) return b;
    const out = Object.assign({}, b, { scans: a.scans.concat(b.scans), conflicts: Object.assign({}, a.conflicts) });
    for (const k of ["recorded", "admitted", "duplicates", "refused"]) out[k] = (a[k] || 0) + (b[k] || 0);
    for (const [k, v] of Object.entries(b.conflicts || {})) out.conflicts[k] = (out.conflicts[k] || 0) + v;
    return out;
  }

  // decide decides a scan offline, records an admission in the log, and
  // resolves to a result shaped like the service's, with offline: true.
  async function decide(body) {
    if (!manifest) manifest = await tx("meta", "readonly", (s) => s.get("manifest"));
    const msg = (en, ar) => ({ en, ar });
    if (!manifest || manifest.gate !== gate) {
      return { decision: "reject", reason: "offline_no_manifest", offline: true, admitted: 0,
        message: msg("Offline and no manifest for this gate: call the control room", "غير متصل ولا يوجد بيان لهذه البوابة: اتصل بغرفة العمليات") };
    }
    const t = await verify(body.ticket);
    if (t.error) return { decision: "reject", reason: t.error, offline: true, admitted: 0 };
    const at = now();
    const log = await logAll();
    const res = decideOffline(manifest, log, t, body.count, at, cfg.share);
    res.offline = true;
    if (res.admitted > 0) res.message = msg("Admitted offline — will be uploaded", "دخول دون اتصال — سيُرفع لاحقاً");
    if (res.reason === "offline_limit") res.message = msg("Offline limit of this wave reached: wait for the service", "بلغت البوابة حدّها دون اتصال لهذا الفوج: انتظر عودة الاتصال");
    if (res.admitted > 0) {
      const seq = Date.now() * 1000 + (log.length % 1000);
      await tx("scans", "readwrite", (s) => s.put({ scan_id: body.scan_id, seq, booking: res.booking, wave: res.slot,
        count: res.admitted, at: at.toISOString(), ticket: body.ticket, uploaded: false }));
      waiting++;
      onChange();
    }
    return res;
  }

  async function start(opts) {
    key = opts.key; gate = opts.gate; device = opts.device; onChange = opts.onChange || render;
    manifest = (await tx("meta", "readonly", (s) => s.get("manifest")).catch(() => null)) || null;
    waiting = (await logAll()).filter((x) => !x.uploaded).length;
    clearInterval(poll);
    poll = setInterval(() => { if (!offline) refresh().catch(() => {}); }, 10000);
    onChange();
    if (offline || waiting) { goOffline(); tryOnline(); } else { refresh().catch(() => {}); }
  }

  // render shows the offline banner (Arabic and English, with the scans
  // waiting) and what the last reconciliation found.
  function render() {
    const box = document.getElementById("offline");
    if (box) {
      box.hidden = !offline && !waiting;
      box.dataset.state = offline ? "offline" : "uploading";
      box.replaceChildren(offline
        ? TF.el("div", { class: "banner offline", role: "alert" },
          TF.el("p", { lang: "ar", dir: "rtl" }, "غير متصل — تُقرَّر التذاكر على هذا الجهاز · بانتظار الرفع: " + waiting),
          TF.el("p", { lang: "en", dir: "ltr" }, "Offline — tickets are decided on this device · scans waiting: " + waiting))
        : TF.el("div", { class: "banner uploading", role: "status" },
          TF.el("p", {}, "جارٍ رفع " + waiting + " · Uploading " + waiting + " offline scans")));
    }
    const rep = document.getElementById("offline-report");
    if (rep) {
      rep.hidden = !report;
      if (report) {
        const lines = [];
        if (report.error) lines.push(TF.el("li", {}, report.error));
        else {
          lines.push(TF.el("li", { "data-kind": "summary" }, "Reconciled " + report.recorded + " offline scans (" + report.admitted +
            " visitors), " + report.duplicates + " already counted, " + report.refused + " refused · تمت مطابقة " + report.recorded));
          for (const s of report.scans || []) for (const c of s.conflicts || []) {
            lines.push(TF.el("li", { class: "conflict", "data-kind": c.kind }, TF.text(c.message)));
          }
        }
        rep.replaceChildren(TF.el("h2", {}, "المطابقة · Reconciliation"), TF.el("ul", {}, ...lines));
      }
    }
  }

  return {
    render,
    start, scan, decide, decideOffline, flush,
    get offline() { return offline; },
    get waiting() { return waiting; },
    get report() { return report; },
    get manifest() { return manifest; },
  };
})();
