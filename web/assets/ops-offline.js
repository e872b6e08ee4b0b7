// Tafweej control room: the gates' offline panel. Every few seconds it
// reads GET /v1/status ("offline") and shows each gate device's state
// (online, offline since, scans waiting) and the conflicts found
// reconciling offline scans (docs/offline-gates.md).
"use strict";

(() => {
  const KEY = "tafweej.ops.key";
  const both = (ar, en) => ar + " · " + en;

  function render(o) {
    const box = document.getElementById("gates-offline");
    if (!box) return;
    const devices = (o && o.devices) || [];
    const recent = (o && o.recent) || [];
    box.hidden = devices.length === 0 && recent.length === 0;
    const rows = devices.map((d) => TF.el("tr", { "data-device": d.device, "data-state": d.state },
      TF.el("td", {}, d.gate), TF.el("td", {}, d.device),
      TF.el("td", { class: d.state === "offline" ? "conflict" : "" }, d.state === "offline" ? both("غير متصل", "offline") : both("متصل", "online")),
      TF.el("td", {}, d.offline_since ? TF.time(d.offline_since) : ""),
      TF.el("td", {}, String(d.waiting)), TF.el("td", {}, String(d.uploaded))));
    const c = (o && o.conflicts) || {};
    const sum = both("تعارضات", "conflicts") + ": " + (c.over_admission || 0) + " over-admission, " +
      (c.cancelled_admitted || 0) + " cancelled admitted, " + (c.closed_zone_entered || 0) + " closed zone entered";
    box.replaceChildren(
      TF.el("h2", {}, both("البوابات دون اتصال", "Offline gates")),
      TF.el("table", {}, TF.el("thead", {}, TF.el("tr", {}, ...["gate", "device", "state", "offline since", "waiting", "uploaded"].map((h) => TF.el("th", {}, h)))),
        TF.el("tbody", {}, ...rows)),
      TF.el("p", { "data-kind": "summary" }, sum),
      TF.el("ul", {}, ...recent.slice(0, 20).map((x) => TF.el("li", { class: "conflict", "data-kind": x.kind }, TF.time(x.at) + " " + TF.text(x.message)))));
  }

  async function tick() {
    const key = localStorage.getItem(KEY);
    if (!key || typeof TF === "undefined") return;
    try {
      const r = await TF.api("GET", "/v1/status", key);
      if (r.status === 200 && r.body) render(r.body.offline);
    } catch (e) { /* the main panel says the service is unreachable */ }
  }

  document.addEventListener("DOMContentLoaded", () => { tick(); setInterval(tick, 5000); });
})();
