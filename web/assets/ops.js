// Tafweej control room: GET /v1/status every few seconds, the site's
// events over /web/events, closures through /v1/closures.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "tafweej.ops.key";
  const POLL_MS = 3000;
  let status = null;
  let stream = null;
  let poller = null;
  let alertKey = "", alertText = "";
  const scans = [];    // latest admission events
  const problems = []; // latest sensor problems
  const MAX_ROWS = 20;

  function showAlert(key, text) {
    alertKey = key; alertText = text || "";
    $("alert").hidden = !key && !text;
    $("alert").textContent = text || (key ? TF.t(key) : "");
    $("alert").dataset.msg = key || "";
  }
  function zoneName(id) {
    const z = (TF.site.zones || []).find((x) => x.id === id);
    return z ? TF.text(z.name) : id;
  }
  function gateName(id) {
    const g = (TF.site.gates || []).find((x) => x.id === id);
    return g ? TF.text(g.name) : id;
  }

  function showSetup(msg) {
    if (stream) stream.close();
    clearInterval(poller);
    $("console").hidden = true;
    $("settings").hidden = true;
    $("setup").hidden = false;
    $("key").value = "";
    showAlert(msg || "");
    $("key").focus();
  }

  async function saveSetup(ev) {
    ev.preventDefault();
    const key = $("key").value.trim();
    try {
      const r = await TF.api("GET", "/v1/status", key);
      if (r.status === 401) { showAlert("wrong_key"); return; }
      if (r.status === 403) { showAlert("forbidden_key"); return; }
      if (r.status !== 200) { showAlert("unreachable"); return; }
    } catch (e) { showAlert("unreachable"); return; }
    localStorage.setItem(KEY, key);
    start();
  }

  function start() {
    $("setup").hidden = true;
    $("console").hidden = false;
    $("settings").hidden = false;
    showAlert("");
    const key = localStorage.getItem(KEY);
    stream = TF.stream(key, onEvent, onConn);
    poll();
    clearInterval(poller);
    poller = setInterval(poll, POLL_MS);
  }

  function onConn(state) {
    const c = $("conn");
    c.dataset.state = state;
    if (state === "wrong" || state === "forbidden") { showSetup(state === "wrong" ? "wrong_key" : "forbidden_key"); return; }
    c.textContent = TF.t(state === "live" ? "live" : state === "connecting" ? "connecting" : "offline");
    if (state === "live") poll();
  }

  async function poll() {
    const key = localStorage.getItem(KEY);
    if (!key) return;
    let r;
    try { r = await TF.api("GET", "/v1/status", key); } catch (e) { showAlert("unreachable"); return; }
    if (r.status === 401) { showSetup("wrong_key"); return; }
    if (r.status === 403) { showSetup("forbidden_key"); return; }
    if (r.status !== 200) { showAlert("unreachable"); return; }
    if (alertKey === "unreachable") showAlert("");
    status = r.body;
    render();
  }

  function onEvent(ev) {
    const d = ev.data || {};
    if (ev.kind === "admission") {
      scans.unshift({ at: ev.at, ...d });
      scans.length = Math.min(scans.length, MAX_ROWS);
      renderScans();
    } else if (ev.kind === "sensor.problem") {
      problems.unshift({ at: ev.at, ...d });
      problems.length = Math.min(problems.length, MAX_ROWS);
      renderProblems();
    } else if (["wave.held", "wave.released", "zone.closed", "zone.reopened"].includes(ev.kind)) {
      poll();
    }
  }

  // ---- rendering ----

  function meter(cls, value, cap, mark) {
    const pct = cap > 0 ? Math.min(100, (100 * value) / cap) : 0;
    const m = TF.el("div", { class: "meter " + cls + (value > cap ? " over" : ""), role: "img", "aria-hidden": "true" },
      TF.el("span", { style: "inline-size:" + pct.toFixed(1) + "%" }));
    if (mark && cap > 0) m.append(TF.el("i", { style: "inset-inline-start:" + Math.min(100, (100 * mark) / cap).toFixed(1) + "%" }));
    return m;
  }

  function closureFor(zone) {
    return (status.closures || []).find((c) => !c.zones || c.zones.length === 0 || c.zones.includes(zone));
  }

  function render() {
    if (!status) return;
    $("clock").textContent = TF.t("clock") + " " + TF.time(status.at) + (status.clock && status.clock !== "wall" ? " (" + status.clock + ")" : "");
    const ev = status.evacuation || {};
    $("summary").textContent = (status.site_closed ? TF.t("site_closed") + " · " : "") +
      TF.t("evacuation") + ": " + (ev.live ?? 0) + " (" + TF.t("inside") + " " + (ev.inside ?? 0) + ")";

    $("zones").replaceChildren(...(status.zones || []).map((z) => {
      const name = TF.text(z.name) || zoneName(z.zone);
      const chips = [];
      if (z.held) chips.push(TF.el("span", { class: "chip held" }, TF.t("held")));
      if (z.closed) chips.push(TF.el("span", { class: "chip closed" }, TF.t("closed")));
      const cl = z.closed ? closureFor(z.zone) : null;
      const btn = z.closed
        ? (cl ? TF.el("button", { type: "button", "data-action": "reopen", "data-zone": z.zone, onclick: () => askReopen(cl) }, TF.t("reopen")) : null)
        : TF.el("button", { type: "button", class: "danger", "data-action": "close", "data-zone": z.zone, onclick: () => askClose([z.zone], name) }, TF.t("close_zone"));
      return TF.el("div", { class: "zone", "data-zone": z.zone },
        TF.el("h3", {}, TF.el("span", { class: "name" }, name), chips, btn),
        TF.el("div", { class: "mlabel" }, TF.t("live_occ") + ": " + z.live + " / " + z.capacity + " (" + TF.t("hold_at") + " " + z.hold_at + ")"),
        meter("live", z.live, z.capacity, z.hold_at),
        TF.el("div", { class: "mlabel" }, TF.t("planned") + ": " + z.planned + " / " + z.capacity + " · " + TF.t("inside") + ": " + z.inside),
        meter("planned", z.planned, z.capacity));
    }));

    const cls = status.closures || [];
    $("closures").replaceChildren(...(cls.length ? cls.map((c) => TF.el("tr", { "data-id": c.id },
      TF.el("td", {}, c.zones && c.zones.length ? c.zones.map(zoneName).join("، ") : TF.t("all_zones")),
      TF.el("td", {}, c.reason || "—", c.source ? TF.el("div", { class: "small" }, c.source) : null),
      TF.el("td", {}, TF.time(c.from)),
      TF.el("td", {}, TF.el("button", { type: "button", "data-action": "reopen", onclick: () => askReopen(c) }, TF.t("reopen")))))
      : [TF.el("tr", {}, TF.el("td", { colspan: "4" }, TF.t("none")))]));

    const ws = status.waves || [];
    $("waves").replaceChildren(...(ws.length ? ws.map((w) => TF.el("tr", {},
      TF.el("td", {}, TF.time(w.slot) + (w.held ? " · " + TF.t("held") : "")),
      TF.el("td", {}, gateName(w.gate)),
      TF.el("td", {}, w.booked + " / " + w.capacity),
      TF.el("td", {}, w.admitted),
      TF.el("td", {}, w.groups)))
      : [TF.el("tr", {}, TF.el("td", { colspan: "5" }, TF.t("none")))]));
  }

  function renderScans() {
    $("scans").replaceChildren(...(scans.length ? scans.map((s) => TF.el("tr", {},
      TF.el("td", {}, TF.time(s.at)), TF.el("td", {}, gateName(s.gate)), TF.el("td", {}, s.operator || ""),
      TF.el("td", {}, s.admitted), TF.el("td", {}, s.remaining)))
      : [TF.el("tr", {}, TF.el("td", { colspan: "5" }, TF.t("none")))]));
  }
  function renderProblems() {
    $("problems").replaceChildren(...(problems.length ? problems.map((p) => TF.el("li", {},
      TF.time(p.at) + " · " + p.kind + " · " + (p.reason || "") + (p.error ? ": " + p.error : "")))
      : [TF.el("li", {}, TF.t("none"))]));
  }

  // ---- close / reopen with confirmation ----

  let confirmAction = null;
  function openDialog(title, needReason, action) {
    confirmAction = action;
    $("confirm-title").textContent = title;
    $("reason-box").hidden = !needReason;
    $("confirm-reason").value = "";
    $("confirm-error").textContent = "";
    $("confirm").showModal();
    (needReason ? $("confirm-reason") : $("confirm-cancel")).focus();
  }
  function askClose(zones, name) {
    openDialog(TF.t("confirm_close", { zone: name }), true, async () => {
      const reason = $("confirm-reason").value.trim();
      if (!reason) { $("confirm-error").textContent = TF.t("reason_required"); $("confirm-reason").focus(); return false; }
      return change("POST", "/v1/closures", { zones, reason });
    });
  }
  function askReopen(c) {
    const name = c.zones && c.zones.length ? c.zones.map(zoneName).join("، ") : TF.t("all_zones");
    openDialog(TF.t("confirm_reopen", { zone: name }), false, () => change("DELETE", "/v1/closures/" + encodeURIComponent(c.id)));
  }
  async function change(method, path, body) {
    let r;
    try { r = await TF.api(method, path, localStorage.getItem(KEY), body); } catch (e) {
      $("confirm-error").textContent = TF.t("unreachable"); return false;
    }
    if (r.status === 401) { $("confirm").close(); showSetup("wrong_key"); return true; }
    if (r.status >= 300) {
      $("confirm-error").textContent = (r.body && r.body.error && r.body.error.message) || String(r.status);
      return false;
    }
    poll();
    return true;
  }

  // ---- boot ----

  function relabel() {
    TF.applyLang();
    $("lang").textContent = TF.t("lang_switch");
    $("lang").lang = TF.lang === "ar" ? "en" : "ar";
    document.title = TF.t("title_ops");
    if (alertKey || alertText) showAlert(alertKey, alertText);
    const c = $("conn");
    if (c.dataset.state) c.textContent = TF.t(c.dataset.state === "live" ? "live" : c.dataset.state === "connecting" ? "connecting" : "offline");
    if (TF.site) { render(); renderScans(); renderProblems(); }
  }

  async function boot() {
    relabel();
    $("lang").addEventListener("click", () => { TF.toggleLang(); relabel(); });
    $("setup").addEventListener("submit", saveSetup);
    $("settings").addEventListener("click", () => showSetup(""));
    $("close-site").addEventListener("click", () => askClose([], TF.t("all_zones")));
    $("confirm-cancel").addEventListener("click", () => $("confirm").close());
    $("confirm-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("confirm-ok").disabled = true;
      try { if (confirmAction && await confirmAction()) $("confirm").close(); } finally { $("confirm-ok").disabled = false; }
    });
    for (;;) {
      try { await TF.loadSite(); break; } catch (e) {
        showAlert("unreachable");
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    showAlert("");
    relabel();
    if (!localStorage.getItem(KEY)) { showSetup(""); return; }
    start();
  }

  document.addEventListener("DOMContentLoaded", boot);
})();
