// Tafweej control room: GET /v1/status every few seconds, the site's
// events over /web/events, closures through /v1/closures, capacity cuts
// through /v1/cuts, and the requests of the coming planned days from
// GET /v1/requests.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "tafweej.ops.key";
  const POLL_MS = 3000;
  const REQUESTS_MS = 30000; // requests change without an event when operators submit
  const PLANNED_DATES = 3;   // how many coming planned dates the panel shows
  let status = null;
  let forecast = null; // the last GET /v1/forecast
  let stream = null;
  let poller = null;
  let reqPoller = null;
  let alertKey = "", alertText = "";
  let cutErr = null;         // {key, vars} of the message under the cut form
  const scans = [];    // latest admission events
  const problems = []; // latest sensor problems
  const cutLog = [];   // bookings moved or cancelled by a cut, seen on this page
  const MAX_ROWS = 20;
  let requests = null;       // GET /v1/requests, null until loaded
  let requestsError = "";
  let requestsSeq = 0;       // the latest load wins
  const allotments = {};     // date -> data of its requests.allotted event
  const shown = new Map();   // element id -> key of what it shows

  function showAlert(key, text) {
    alertKey = key; alertText = text || "";
    $("alert").hidden = !key && !text;
    $("alert").textContent = text || (key ? TF.t(key) : "");
    $("alert").dataset.msg = key || "";
  }
  function zone(id) { return (TF.site.zones || []).find((x) => x.id === id); }
  function gate(id) { return (TF.site.gates || []).find((x) => x.id === id); }
  function zoneName(id) { const z = zone(id); return z ? TF.text(z.name) : id; }
  function gateName(id) { const g = gate(id); return g ? TF.text(g.name) : id; }

  // fill replaces an element's children, only when what it shows changed,
  // so that the buttons keep the keyboard focus between polls.
  function fill(el, key, build) {
    if (shown.get(el.id) === key) return;
    shown.set(el.id, key);
    el.replaceChildren(...build());
  }

  // today is the site's date by the service's clock.
  function today() {
    if (status) return status.at.slice(0, 10);
    return TF.site.today ? TF.site.today.date : String(TF.site.now).slice(0, 10);
  }
  function nowMs() { return status ? Date.parse(status.at) : Date.now() + (TF.site.offset || 0); }

  function showSetup(msg) {
    if (stream) stream.close();
    clearInterval(poller);
    clearInterval(reqPoller);
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
    loadRequests();
    clearInterval(reqPoller);
    reqPoller = setInterval(loadRequests, REQUESTS_MS);
  }

  function onConn(state) {
    const c = $("conn");
    c.dataset.state = state;
    if (state === "wrong" || state === "forbidden") { showSetup(state === "wrong" ? "wrong_key" : "forbidden_key"); return; }
    c.textContent = TF.t(state === "live" ? "live" : state === "connecting" ? "connecting" : "offline");
    if (state === "live") { poll(); loadRequests(); }
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
    TFMap.load(key);
    loadForecast(key);
  }

  // loadForecast reads GET /v1/forecast and draws it.
  async function loadForecast(key) {
    let r;
    try { r = await TF.api("GET", "/v1/forecast", key); } catch (e) { return; }
    if (r.status !== 200 || !r.body) return;
    forecast = r.body;
    renderForecast();
  }

  const SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const n = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    return n;
  }

  // renderForecast draws each zone's forecast for the next hour: a line
  // of the visitors forecast minute by minute, under the hold threshold
  // (dashed orange) and the capacity (red), on a scale from 0 to 120% of
  // the capacity; the dwell learned beside the configured one; and the
  // groups held back at the gates, and why.
  function renderForecast() {
    if (!forecast) return;
    const W = 240, H = 60;
    const dwell = {};
    for (const d of forecast.dwell || []) dwell[d.zone] = d;
    const rows = (forecast.zones || []).map((z) => {
      const top = Math.max(z.capacity * 1.2, 1);
      const y = (v) => (H - (H * Math.min(v, top)) / top).toFixed(2);
      const n = Math.max((z.visitors || []).length - 1, 1);
      const pts = (z.visitors || []).map((v, k) => ((W * k) / n).toFixed(2) + "," + y(v)).join(" ");
      const g = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "fc", role: "img", "aria-label": zoneName(z.zone) });
      g.append(svg("line", { class: "fc-cap", x1: 0, x2: W, y1: y(z.capacity), y2: y(z.capacity), stroke: "#c62828", "stroke-width": 1.5 }));
      g.append(svg("line", { class: "fc-hold", x1: 0, x2: W, y1: y(z.hold_at), y2: y(z.hold_at), stroke: "#ef6c00", "stroke-width": 1.5, "stroke-dasharray": "4 3" }));
      g.append(svg("polyline", { class: "fc-line", points: pts, fill: "none", stroke: z.peak > z.hold_at ? "#ef6c00" : "#1565c0", "stroke-width": 2 }));
      const d = dwell[z.zone];
      const dl = d && d.learned ? TF.t("dwell_line", { learned: d.learned_minutes, configured: d.configured_minutes })
        : TF.t("dwell_unlearned", { configured: d ? d.configured_minutes : "?" });
      return TF.el("div", { class: "fc-zone", "data-zone": z.zone, "data-peak": z.peak, "data-capacity": z.capacity, "data-hold": z.hold_at },
        TF.el("strong", {}, zoneName(z.zone)), " ",
        TF.el("span", { class: "small" }, TF.t("peak_line", { peak: z.peak, at: TF.time(z.peak_at) }) + " · " + dl),
        TF.el("div", {}, g));
    });
    $("forecast").replaceChildren(...rows);
    $("held-back").replaceChildren(...(forecast.held || []).map((h) => TF.el("tr", { "data-booking": h.booking },
      TF.el("td", {}, gateName(h.gate)), TF.el("td", {}, TF.time(h.slot)), TF.el("td", { class: "n" }, String(h.visitors)),
      TF.el("td", {}, zoneName(h.zone)),
      TF.el("td", {}, TF.t("held_why_text", { zone: zoneName(h.zone), forecast: h.forecast, hold: h.hold_at, at: TF.time(h.zone_at) })),
      TF.el("td", {}, TF.time(h.retry_at)))));
  }

  // loadRequests reads every operator's requests (an ops key sees them
  // all) and the site's description again, for the next cut-off.
  async function loadRequests() {
    const key = localStorage.getItem(KEY);
    if (!key) return;
    const seq = ++requestsSeq;
    let r;
    try { r = await TF.api("GET", "/v1/requests", key); } catch (e) { r = null; }
    try { await TF.loadSite(); } catch (e) { /* keep the last one */ }
    if (seq !== requestsSeq) return;
    if (r && r.status === 200 && r.body && Array.isArray(r.body.requests)) {
      requests = r.body.requests;
      requestsError = "";
    } else {
      requestsError = !r ? TF.t("unreachable") : (r.body && r.body.error && r.body.error.message) || String(r.status);
    }
    renderPlanned();
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
    } else if (["wave.held", "wave.released", "zone.closed", "zone.reopened", "capacity.cut", "capacity.restored"].includes(ev.kind)) {
      poll();
    } else if ((ev.kind === "booking.rescheduled" || ev.kind === "booking.cancelled") && String(d.reason || "").startsWith("capacity cut: ")) {
      cutLog.unshift({ at: ev.at, kind: ev.kind, booking: d });
      cutLog.length = Math.min(cutLog.length, MAX_ROWS);
      renderCutLog();
      poll();
    } else if (ev.kind === "requests.allotted") {
      if (d.date) allotments[d.date] = d;
      loadRequests();
    }
  }

  // ---- rendering ----

  function meter(cls, value, cap, mark) {
    const pct = cap > 0 ? Math.min(100, (100 * value) / cap) : 0;
    const m = TF.el("div", { class: "meter " + cls + (value > cap ? " over" : ""), role: "img", "aria-hidden": "true" },
      TF.el("span", { style: { inlineSize: pct.toFixed(2) + "%" } }));
    if (mark && cap > 0 && mark <= cap) m.append(TF.el("i", { style: { insetInlineStart: ((100 * mark) / cap).toFixed(2) + "%" } }));
    return m;
  }

  function closureFor(zone) {
    return (status.closures || []).find((c) => !c.zones || c.zones.length === 0 || c.zones.includes(zone));
  }

  // inForce reports whether a cut lowers capacity at the status's time.
  function inForce(c) {
    const now = nowMs();
    return Date.parse(c.from) <= now && now < Date.parse(c.until);
  }
  // cutOf is the lowest cut in force on a zone or gate, or null.
  function cutOf(kind, id) {
    let best = null;
    for (const c of status.cuts || []) {
      if (c[kind] === id && inForce(c) && (!best || c.capacity < best.capacity)) best = c;
    }
    return best;
  }
  function cutTargetName(c) { return c.zone ? zoneName(c.zone) : gateName(c.gate); }
  function configuredOf(c) {
    const p = c.zone ? zone(c.zone) : gate(c.gate);
    return p ? p.capacity : "?";
  }

  function render() {
    if (!status) return;
    const clockNote = TF.clockName(status.clock);
    $("clock").textContent = TF.t("clock") + " " + TF.time(status.at) + (clockNote ? " (" + clockNote + ")" : "");
    const ev = status.evacuation || {};
    $("summary").textContent = (status.site_closed ? TF.t("site_closed") + " · " : "") +
      TF.t("evacuation") + ": " + (ev.live ?? 0) + " (" + TF.t("inside") + " " + (ev.inside ?? 0) + ")";

    const zoneCuts = (status.zones || []).map((z) => cutOf("zone", z.zone));
    fill($("zones"), JSON.stringify([TF.lang, status.zones, status.closures, zoneCuts]), () => (status.zones || []).map((z, i) => {
      const name = TF.text(z.name) || zoneName(z.zone);
      const cut = zoneCuts[i];
      const conf = zone(z.zone) ? zone(z.zone).capacity : z.capacity;
      const chips = [];
      if (z.held) chips.push(TF.el("span", { class: "chip held" }, TF.t("held")));
      if (z.closed) chips.push(TF.el("span", { class: "chip closed" }, TF.t("closed")));
      if (cut) chips.push(TF.el("span", { class: "chip cut", title: cut.reason }, TF.t("cut_chip")));
      if (z.overbooked && z.overbooked.length) chips.push(TF.el("span", { class: "chip over" }, TF.t("over_chip")));
      const cl = z.closed ? closureFor(z.zone) : null;
      const btn = z.closed
        ? (cl ? TF.el("button", { type: "button", "data-action": "reopen", "data-zone": z.zone, onclick: () => askReopen(cl) }, TF.t("reopen")) : null)
        : TF.el("button", { type: "button", class: "danger", "data-action": "close", "data-zone": z.zone, onclick: () => askClose([z.zone], name) }, TF.t("close_zone"));
      // The status's capacity is the one in force (the cut one during a
      // capacity cut); the service decides it, the page shows it.
      const capacity = z.capacity;
      const cap = capacity + (capacity < conf ? " (" + TF.t("cut_from", { configured: conf }) + ")" : "");
      return TF.el("div", { class: "zone", "data-zone": z.zone },
        TF.el("h3", {}, TF.el("span", { class: "name" }, name), chips, btn),
        TF.el("div", { class: "mlabel" }, TF.t("live_occ") + ": " + z.live + " / " + cap + " (" + TF.t("hold_at") + " " + z.hold_at + ")"),
        meter("live", z.live, capacity, z.hold_at),
        TF.el("div", { class: "mlabel" }, TF.t("planned") + ": " + z.planned + " / " + capacity + " · " + TF.t("inside") + ": " + z.inside),
        meter("planned", z.planned, capacity));
    }));

    const cls = status.closures || [];
    fill($("closures"), JSON.stringify([TF.lang, cls]), () => cls.length ? cls.map((c) => TF.el("tr", { "data-id": c.id },
      TF.el("td", {}, c.zones && c.zones.length ? c.zones.map(zoneName).join("، ") : TF.t("all_zones")),
      TF.el("td", {}, c.reason || "—", c.source ? TF.el("div", { class: "small" }, c.source) : null),
      TF.el("td", {}, TF.time(c.from)),
      TF.el("td", {}, TF.el("button", { type: "button", "data-action": "reopen", onclick: () => askReopen(c) }, TF.t("reopen")))))
      : [TF.el("tr", {}, TF.el("td", { colspan: "4" }, TF.t("none")))]);

    const ws = status.waves || [];
    fill($("waves"), JSON.stringify([TF.lang, ws]), () => ws.length ? ws.map((w) => {
      const g = gate(w.gate);
      const cut = g && w.capacity < g.capacity;
      return TF.el("tr", { "data-gate": w.gate },
        TF.el("td", { class: "nw" }, TF.time(w.slot), w.held ? TF.el("span", { class: "chip held" }, TF.t("held")) : null),
        TF.el("td", {}, gateName(w.gate)),
        TF.el("td", { class: "n" }, w.booked + " / " + w.capacity, cut ? TF.el("div", { class: "small" }, TF.t("cut_from", { configured: g.capacity })) : null),
        TF.el("td", { class: "n" }, w.admitted),
        TF.el("td", { class: "n" }, w.groups));
    }) : [TF.el("tr", {}, TF.el("td", { colspan: "5" }, TF.t("none")))]);

    renderCuts();
    renderPlanned();
    renderOver();
  }

  // renderOver lists the dates over the capacity now configured (after the
  // configuration lowered it), each with a button to re-plan it.
  function renderOver() {
    const ds = status.overbooked || [];
    $("over-box").hidden = ds.length === 0 && !$("over-result").textContent;
    fill($("over"), JSON.stringify([TF.lang, ds]), () => ds.map((d) => {
      const date = TF.day(d.date, true);
      return TF.el("div", { class: "oday", "data-date": d.date },
        TF.el("h3", {}, TF.el("span", { class: "name" }, TF.t("over_date", { date, waves: d.waves, zones: d.zone_days })),
          TF.el("button", { type: "button", class: "danger", "data-action": "replan", "aria-label": TF.t("replan_label", { date }),
            onclick: () => askReplan(d) }, TF.t("replan"))),
        TF.el("ul", {},
          (d.zones || []).map((z) => TF.el("li", { "data-zone": z.zone }, TF.t("over_zone", { zone: zoneName(z.zone),
            planned: z.planned, capacity: z.capacity, from: TF.time(z.from), until: TF.time(z.until) }))),
          (d.gates || []).map((g) => TF.el("li", { "data-gate": g.gate }, TF.t("over_gate", { gate: gateName(g.gate),
            waves: g.waves, booked: g.booked, capacity: g.capacity, slot: TF.time(g.slot) })))));
    }));
  }

  function renderCuts() {
    const cs = status.cuts || [];
    const day = today();
    const live = cs.map(inForce);
    fill($("cuts"), JSON.stringify([TF.lang, cs, live, day]), () => cs.length ? cs.map((c, i) => {
      const name = cutTargetName(c);
      return TF.el("div", { class: "cut", "data-id": c.id, "data-zone": c.zone || null, "data-gate": c.gate || null, "data-state": live[i] ? "in_force" : "scheduled" },
        TF.el("h3", {}, TF.el("span", { class: "name" }, name, " ", TF.el("span", { class: "small" }, TF.t(c.zone ? "kind_zone" : "kind_gate"))),
          TF.el("span", { class: "chip " + (live[i] ? "cut" : "later") }, TF.t(live[i] ? "in_force" : "scheduled")),
          TF.el("button", { type: "button", "data-action": "lift", "aria-label": TF.t("lift_label", { target: name }), onclick: () => askLift(c) }, TF.t("lift"))),
        TF.el("div", {}, TF.el("strong", { class: "cap" }, c.capacity), " " + TF.t("of_configured", { configured: configuredOf(c) }) +
          " · " + TF.when(c.from, day) + " – " + TF.when(c.until, day)),
        TF.el("div", { class: "small" }, TF.t("reason") + ": " + c.reason + (c.source ? " · " + c.source : "")));
    }) : [TF.el("p", {}, TF.t("none"))]);
  }

  function renderCutLog() {
    $("cut-log-box").hidden = cutLog.length === 0;
    const day = today();
    fill($("cut-log"), JSON.stringify([TF.lang, cutLog, day]), () => cutLog.map((e) => {
      const b = e.booking;
      const vars = { booking: b.reference || b.id, operator: b.operator || "", party: b.party_size,
        slot: TF.when(b.slot, day), gate: gateName(b.gate) };
      return TF.el("li", { "data-booking": b.id },
        TF.time(e.at) + " · " + TF.t(e.kind === "booking.cancelled" ? "cancelled_by" : "moved_to", vars) + " — " + b.reason);
    }));
  }

  function renderScans() {
    fill($("scans"), JSON.stringify([TF.lang, scans]), () => scans.length ? scans.map((s) => TF.el("tr", {},
      TF.el("td", { class: "nw" }, TF.time(s.at)), TF.el("td", {}, gateName(s.gate)), TF.el("td", { class: "id" }, s.operator || ""),
      TF.el("td", { class: "n" }, s.admitted), TF.el("td", { class: "n" }, s.remaining)))
      : [TF.el("tr", {}, TF.el("td", { colspan: "5" }, TF.t("none")))]);
  }
  function renderProblems() {
    fill($("problems"), JSON.stringify([TF.lang, problems]), () => problems.length ? problems.map((p) => TF.el("li", {},
      TF.time(p.at) + " · " + p.kind + " · " + (p.reason || "") + (p.error ? ": " + p.error : "")))
      : [TF.el("li", {}, TF.t("none"))]);
  }

  // ---- planned days ----

  const STATUSES = ["pending", "allotted", "not_placed", "withdrawn"];

  // plannedDates sums up the requests of the coming planned dates (from
  // today), the earliest first.
  function plannedDates() {
    const day = today();
    const by = new Map();
    for (const q of requests || []) {
      if (q.date < day) continue;
      let d = by.get(q.date);
      if (!d) {
        d = { date: q.date, cutoff: q.cutoff, groups: {}, visitors: {} };
        for (const s of STATUSES) { d.groups[s] = 0; d.visitors[s] = 0; }
        by.set(q.date, d);
      }
      d.groups[q.status] = (d.groups[q.status] || 0) + 1;
      d.visitors[q.status] = (d.visitors[q.status] || 0) + q.party_size;
    }
    return [...by.values()].sort((a, b) => (a.date < b.date ? -1 : 1)).slice(0, PLANNED_DATES);
  }

  function renderPlanned() {
    if (!TF.site) return;
    const rw = TF.site.request_window;
    $("planned-box").hidden = !rw;
    if (!rw) return;
    const periods = rw.periods && rw.periods.length
      ? rw.periods.map((p) => TF.day(p.from) + " – " + TF.day(p.to)).join(TF.lang === "ar" ? "، " : ", ")
      : TF.t("every_day");
    let rule = TF.t("planned_rule", { periods, days: rw.cutoff_days_before, time: rw.cutoff_time });
    if (rw.next) rule += " " + TF.t("next_cutoff", { cutoff: TF.day(rw.next.cutoff.slice(0, 10), true) + " " + TF.time(rw.next.cutoff), date: TF.day(rw.next.date, true) });
    $("planned-rule").textContent = rule;
    const dates = plannedDates();
    const now = nowMs();
    const phases = dates.map((d) => now < Date.parse(d.cutoff) ? "open" : d.groups.pending > 0 ? "planning" : "done");
    fill($("planned"), JSON.stringify([TF.lang, dates, phases, requestsError, requests === null, allotments]), () => {
      const out = [];
      if (requestsError) out.push(TF.el("p", { class: "status", role: "alert" }, TF.t("requests_error", { error: requestsError })));
      if (requests !== null && dates.length === 0) out.push(TF.el("p", { id: "planned-none" }, TF.t("no_planned")));
      for (const [i, d] of dates.entries()) {
        const phase = phases[i];
        const a = allotments[d.date];
        out.push(TF.el("article", { class: "pday", "data-date": d.date, "data-phase": phase, "aria-labelledby": "pday-" + d.date },
          TF.el("h3", { id: "pday-" + d.date }, TF.el("span", { class: "name" }, TF.day(d.date, true)),
            TF.el("span", { class: "chip phase-" + phase }, TF.t("phase_" + phase))),
          TF.el("p", { class: "small" }, TF.t("cutoff") + ": " + TF.day(String(d.cutoff).slice(0, 10), true) + " " + TF.time(d.cutoff)),
          TF.el("table", {},
            TF.el("thead", {}, TF.el("tr", {}, TF.el("th", {}, TF.t("status_col")), TF.el("th", {}, TF.t("requests_col")), TF.el("th", {}, TF.t("visitors")))),
            TF.el("tbody", {}, STATUSES.map((s) => TF.el("tr", { "data-status": s },
              TF.el("td", {}, TF.t("st_" + s)), TF.el("td", { class: "n" }, d.groups[s]), TF.el("td", { class: "n" }, d.visitors[s]))))),
          a ? TF.el("p", { class: "small allotment" }, TF.t("allotment", a) + (a.replaced ? " " + TF.t("replaced", { n: a.replaced }) : "")) : null));
      }
      return out;
    });
  }

  // ---- close / reopen / cut / lift with confirmation ----

  let confirmAction = null;
  function openDialog(title, needReason, action, detail) {
    confirmAction = action;
    $("confirm-title").textContent = title;
    $("confirm-detail").textContent = detail || "";
    $("confirm-detail").hidden = !detail;
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
      // The whole site is closed only by an explicit "all": true.
      return change("POST", "/v1/closures", zones === "all" ? { all: true, reason } : { zones, reason });
    });
  }
  function askReopen(c) {
    const name = c.zones && c.zones.length ? c.zones.map(zoneName).join("، ") : TF.t("all_zones");
    openDialog(TF.t("confirm_reopen", { zone: name }), false, () => change("DELETE", "/v1/closures/" + encodeURIComponent(c.id)));
  }
  function askLift(c) {
    openDialog(TF.t("confirm_lift", { target: cutTargetName(c), capacity: c.capacity }), false,
      () => change("DELETE", "/v1/cuts/" + encodeURIComponent(c.id)), TF.t("reason") + ": " + c.reason);
  }
  function askReplan(d) {
    const date = TF.day(d.date, true);
    openDialog(TF.t("confirm_replan", { date }), false, () => change("POST", "/v1/replan", { date: d.date }, (p) => {
      $("over-result").textContent = TF.t("replanned", { date, moved: p.moved, left: p.left_window, cancelled: p.cancelled, unchanged: p.unchanged });
    }), TF.t("over_date", { date, waves: d.waves, zones: d.zone_days }));
  }
  // change sends an operation; done, if given, gets the answer's body.
  async function change(method, path, body, done) {
    let r;
    try { r = await TF.api(method, path, localStorage.getItem(KEY), body); } catch (e) {
      $("confirm-error").textContent = TF.t("unreachable"); return false;
    }
    if (r.status === 401) { $("confirm").close(); showSetup("wrong_key"); return true; }
    if (r.status >= 300) {
      $("confirm-error").textContent = (r.body && r.body.error && r.body.error.message) || String(r.status);
      return false;
    }
    if (done) done(r.body);
    poll();
    return true;
  }

  // The cut form: a zone or a gate, the lower capacity, when it ends (a
  // time today, or a date and time) and why; confirmed in the dialog.
  const CUT_FIELDS = ["cut-target", "cut-capacity", "cut-until-time", "cut-until-date", "cut-reason"];

  function fillCutTargets() {
    const sel = $("cut-target");
    const keep = sel.value;
    sel.replaceChildren(
      TF.el("optgroup", { label: TF.t("zones") }, (TF.site.zones || []).map((z) =>
        TF.el("option", { value: "zone:" + z.id }, TF.text(z.name) + " (" + z.capacity + ")"))),
      TF.el("optgroup", { label: TF.t("gates") }, (TF.site.gates || []).map((g) =>
        TF.el("option", { value: "gate:" + g.id }, TF.text(g.name) + " (" + TF.t("wave_cap", { capacity: g.capacity }) + ")"))));
    if (keep) sel.value = keep;
    cutHelp();
  }
  function cutTarget() {
    const v = $("cut-target").value || "";
    const i = v.indexOf(":");
    if (i < 0) return null;
    const kind = v.slice(0, i), id = v.slice(i + 1);
    const p = kind === "zone" ? zone(id) : gate(id);
    if (!p) return null;
    return { kind, id, name: TF.text(p.name), configured: p.capacity };
  }
  function cutHelp() {
    const t = cutTarget();
    $("cut-capacity-help").textContent = t ? TF.t("cut_capacity_help", { configured: t.configured, max: t.configured - 1 }) : "";
    if (t) $("cut-capacity").max = String(t.configured - 1);
    $("cut-until-date").min = today();
  }
  function showCutError() {
    $("cut-error").textContent = cutErr ? TF.t(cutErr.key, cutErr.vars) : "";
  }
  function cutError(field, key, vars) {
    cutErr = { key, vars };
    showCutError();
    $(field).setAttribute("aria-invalid", "true");
    $(field).focus();
  }
  function submitCut(ev) {
    ev.preventDefault();
    cutErr = null;
    showCutError();
    for (const f of CUT_FIELDS) $(f).removeAttribute("aria-invalid");
    const t = cutTarget();
    if (!t) { cutError("cut-target", "cut_target_required"); return; }
    const capacity = Number($("cut-capacity").value);
    if ($("cut-capacity").value.trim() === "" || !Number.isInteger(capacity) || capacity < 1 || capacity >= t.configured) {
      cutError("cut-capacity", "cut_capacity_range", { max: t.configured - 1 });
      return;
    }
    const time = $("cut-until-time").value;
    if (!/^\d\d:\d\d$/.test(time)) { cutError("cut-until-time", "cut_until_required"); return; }
    const day = today();
    const date = $("cut-until-date").value || day;
    const until = TF.siteISO(date, time);
    if (Date.parse(until) <= nowMs()) { cutError(date === day ? "cut-until-time" : "cut-until-date", "cut_until_past"); return; }
    const reason = $("cut-reason").value.trim();
    if (!reason) { cutError("cut-reason", "cut_reason_required"); return; }
    const body = { capacity, until, reason };
    body[t.kind] = t.id;
    openDialog(TF.t("confirm_cut", { target: t.name, capacity, configured: t.configured, until: TF.when(until, day) }), false, async () => {
      const ok = await change("POST", "/v1/cuts", body);
      if (ok) {
        for (const f of ["cut-capacity", "cut-until-time", "cut-until-date", "cut-reason"]) $(f).value = "";
      }
      return ok;
    }, TF.t("reason") + ": " + reason);
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
    if (TF.site) { fillCutTargets(); showCutError(); render(); renderScans(); renderProblems(); renderCutLog(); renderPlanned(); renderForecast(); TFMap.render(); }
  }

  async function boot() {
    relabel();
    $("lang").addEventListener("click", () => { TF.toggleLang(); relabel(); });
    $("setup").addEventListener("submit", saveSetup);
    $("settings").addEventListener("click", () => showSetup(""));
    $("close-site").addEventListener("click", () => askClose("all", TF.t("all_zones")));
    $("cut-form").addEventListener("submit", submitCut);
    $("cut-target").addEventListener("change", cutHelp);
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
    const link = await TF.claimLink();
    if (link) localStorage.setItem(KEY, link.key);
    if (!localStorage.getItem(KEY)) { showSetup(""); return; }
    start();
  }

  document.addEventListener("DOMContentLoaded", boot);
})();
