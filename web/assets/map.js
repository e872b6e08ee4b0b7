// Tafweej control room: the reserve's map, drawn as SVG from
// GET /v1/zones.geojson (RFC 7946). No tiles and no request outside the
// service: it works without internet. Each zone is coloured by its live
// occupancy against its capacity (TFMap.SCALE), held zones get a dashed
// outline and closed ones a hatch, and every zone is labelled in Arabic and
// English. Colours and positions are set as SVG attributes, never as style
// attributes (the page's CSP blocks those).
"use strict";

const TFMap = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PAD = 28;
  const INSET = 0.24;        // an inset's share of the width
  // SCALE: live/capacity below `below` takes `color` (the last is 100%
  // and over). The legend under the map shows the same bands.
  const SCALE = [
    { below: 0.25, color: "#1a9850", label: "< 25%" },
    { below: 0.5, color: "#91cf60", label: "25–50%" },
    { below: 0.75, color: "#fee08b", label: "50–75%" },
    { below: 1, color: "#fc8d59", label: "75–100%" },
    { below: Infinity, color: "#d73027", label: "≥ 100%" },
  ];
  const NO_DATA = "#5f6368";

  let data = null;     // the latest FeatureCollection
  let seq = 0;         // the latest load wins
  let drawnKey = "";   // what the SVG shows, to redraw only on a change

  function color(live, capacity) {
    if (!(capacity > 0)) return NO_DATA;
    const r = live / capacity;
    return SCALE.find((s) => r < s.below).color;
  }

  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    for (const k of kids.flat()) if (k) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }

  // rings lists a geometry's rings or lines as arrays of [lon, lat].
  function parts(g) {
    if (!g) return { areas: [], lines: [] };
    switch (g.type) {
      case "Polygon": return { areas: [g.coordinates], lines: [] };
      case "MultiPolygon": return { areas: g.coordinates, lines: [] };
      case "LineString": return { areas: [], lines: [g.coordinates] };
      case "MultiLineString": return { areas: [], lines: g.coordinates };
      default: return { areas: [], lines: [] };
    }
  }
  function positions(g) {
    const p = parts(g);
    return [...p.areas.flat(1), ...p.lines].flat(1);
  }

  // bounds of a set of positions: [minLon, minLat, maxLon, maxLat].
  function bounds(ps) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of ps) { b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y); }
    return b;
  }

  // projection fits bounds b into the box [x, y, w, h] (equirectangular,
  // longitude shrunk by the cosine of the latitude; north up).
  function projection(b, box) {
    const k = Math.cos(((b[1] + b[3]) / 2) * Math.PI / 180);
    const gw = Math.max((b[2] - b[0]) * k, 1e-9), gh = Math.max(b[3] - b[1], 1e-9);
    const s = Math.min(box[2] / gw, box[3] / gh);
    const ox = box[0] + (box[2] - gw * s) / 2, oy = box[1] + (box[3] - gh * s) / 2;
    const f = ([lon, lat]) => [ox + (lon - b[0]) * k * s, oy + (b[3] - lat) * s];
    f.scale = s;
    return f;
  }

  function pathOf(rings, proj, close) {
    return rings.map((r) => r.map((p, i) => (i ? "L" : "M") + proj(p).map((n) => n.toFixed(1)).join(" ")).join("") + (close ? "Z" : "")).join("");
  }

  // centre of a zone's largest part, for its label.
  function centre(g, proj) {
    const ps = positions(g).map(proj);
    if (!ps.length) return null;
    const b = bounds(ps);
    return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
  }

  function layout(features, W, fitH) {
    const main = features.filter((f) => f.geometry && !f.properties.inset);
    const insets = features.filter((f) => f.geometry && f.properties.inset);
    const mb = bounds(main.flatMap((f) => positions(f.geometry)));
    const k = Math.cos(((mb[1] + mb[3]) / 2) * Math.PI / 180);
    const aspect = Math.max((mb[3] - mb[1]) / Math.max((mb[2] - mb[0]) * k, 1e-9), 0.35);
    const H = fitH > 0 ? fitH : Math.round(Math.min(Math.max(W * aspect, 420), 900));
    const proj = new Map();
    const mainProj = projection(mb, [PAD, PAD, W - 2 * PAD, H - 2 * PAD]);
    for (const f of main) proj.set(f.id, mainProj);
    const boxes = [];
    insets.forEach((f, i) => {
      const iw = W * INSET, ih = iw * 0.62;
      const box = [W - iw - 8, 8 + i * (ih + 8), iw, ih];
      boxes.push({ box, f });
      proj.set(f.id, projection(bounds(positions(f.geometry)), [box[0] + 14, box[1] + 14, box[2] - 28, box[3] - 44]));
    });
    return { H, proj, boxes };
  }

  // draw renders the collection into the svg element; lang is the page's
  // language (its name first, the other below).
  function draw(el, fc, lang) {
    const key = JSON.stringify([lang, el.clientWidth, el.clientHeight, fc.features.map((f) => [f.id, f.properties.live, f.properties.capacity, f.properties.held, f.properties.closed, !!f.geometry])]);
    if (key === drawnKey && el.childNodes.length) return;
    drawnKey = key;
    const feats = fc.features.filter((f) => f.geometry);
    el.dataset.zones = String(feats.length);
    if (!feats.length) { el.replaceChildren(); return; }
    // The viewBox is the element's own size in CSS pixels, so that the map
    // fills its panel and the labels are drawn at their true size.
    const W = el.clientWidth > 200 ? Math.round(el.clientWidth) : 1000;
    const fitH = el.clientHeight > 200 ? Math.round(el.clientHeight) : 0;
    const { H, proj, boxes } = layout(fc.features, W, fitH);
    el.setAttribute("viewBox", "0 0 " + W + " " + H);
    el.setAttribute("preserveAspectRatio", "xMidYMid meet");
    const defs = svg("defs", {},
      svg("pattern", { id: "map-hatch", width: 10, height: 10, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        svg("rect", { width: 10, height: 10, fill: "rgba(0,0,0,0.35)" }),
        svg("line", { x1: 0, y1: 0, x2: 0, y2: 10, stroke: "#ffffff", "stroke-width": 4 })));
    const under = [], shapes = [], marks = [], labels = [];
    for (const b of boxes) {
      under.push(svg("rect", { class: "map-inset", x: b.box[0], y: b.box[1], width: b.box[2], height: b.box[3], rx: 6,
        fill: "#000000", stroke: "#9aa0a6", "stroke-width": 2, "stroke-dasharray": "6 4" }));
    }
    for (const f of feats) {
      const p = f.properties, pr = proj.get(f.id);
      const fill = color(p.live, p.capacity);
      const { areas, lines } = parts(f.geometry);
      const d = areas.map((poly) => pathOf(poly, pr, true)).join("") + lines.map((l) => pathOf([l], pr, false)).join("");
      const name = lang === "ar" ? p.name_ar : p.name_en, other = lang === "ar" ? p.name_en : p.name_ar;
      const title = name + " — " + other + ": " + p.live + " / " + p.capacity + (p.held ? " · " + TF.t("held") : "") + (p.closed ? " · " + TF.t("closed") : "");
      const isLine = areas.length === 0;
      const attrs = { class: "map-zone", "data-zone": f.id, "data-held": p.held ? "true" : "false", "data-closed": p.closed ? "true" : "false",
        "data-color": fill, d, "fill-rule": "evenodd" };
      if (isLine) Object.assign(attrs, { fill: "none", stroke: fill, "stroke-width": 14, "stroke-linecap": "round", "stroke-linejoin": "round" });
      else Object.assign(attrs, { fill, stroke: p.held ? "#ffd400" : "#ffffff", "stroke-width": p.held ? 5 : 1.5, "stroke-dasharray": p.held ? "10 6" : null });
      shapes.push(svg("path", attrs, svg("title", {}, title)));
      if (p.closed && !isLine) marks.push(svg("path", { class: "map-closed", "data-zone": f.id, d, fill: "url(#map-hatch)", stroke: "#b3141b", "stroke-width": 4 }));
      if (p.closed && isLine) marks.push(svg("path", { class: "map-closed", "data-zone": f.id, d, fill: "none", stroke: "#b3141b", "stroke-width": 6, "stroke-dasharray": "4 6" }));
      const c = centre(f.geometry, pr);
      if (c) labels.push({ f, c, name, other, p });
    }
    // Labels: both names and the figures, nudged down past any label
    // already placed that they would cover.
    const placed = [];
    const LH = 17;
    const texts = [];
    labels.sort((a, b) => a.c[1] - b.c[1]);
    for (const l of labels) {
      const status = (l.p.closed ? TF.t("closed") + " · " : l.p.held ? TF.t("held") + " · " : "") + l.p.live + " / " + l.p.capacity;
      const lines = [l.name, l.other, status];
      const w = Math.max(...lines.map((s) => String(s).length)) * 7.2 + 8, h = lines.length * LH;
      let x = Math.min(Math.max(l.c[0], w / 2 + 2), W - w / 2 - 2), y = l.c[1] - h / 2;
      for (let tries = 0; tries < 40; tries++) {
        const hit = placed.find((q) => Math.abs(q.x - x) < (q.w + w) / 2 && y < q.y + q.h && q.y < y + h);
        if (!hit) break;
        y = hit.y + hit.h + 2;
      }
      y = Math.min(y, H - h - 2);
      placed.push({ x, y, w, h });
      const lead = Math.abs(y + h / 2 - l.c[1]) > h ? svg("line", { class: "map-lead", x1: l.c[0], y1: l.c[1], x2: x, y2: y, stroke: "#ffffff", "stroke-width": 1 }) : null;
      texts.push(svg("g", { class: "map-label", "data-zone": l.f.id },
        lead,
        svg("rect", { x: x - w / 2, y, width: w, height: h, rx: 4, fill: "rgba(0,0,0,0.72)" }),
        lines.map((s, i) => svg("text", { x, y: y + LH * (i + 1) - 4, "text-anchor": "middle", fill: i === 2 && (l.p.closed || l.p.held) ? "#ffd400" : "#ffffff",
          "font-size": i === 0 ? 15 : 13, "font-weight": i === 1 ? 400 : 700, lang: i === 1 ? (TF.lang === "ar" ? "en" : "ar") : TF.lang,
          // the figures line reads left to right in both languages ("1000 / 1200")
          direction: i === 2 ? "ltr" : i === 1 ? (TF.lang === "ar" ? "ltr" : "rtl") : (TF.lang === "ar" ? "rtl" : "ltr") }, s))));
    }
    el.replaceChildren(defs, ...under, ...shapes, ...marks, ...texts);
  }

  function legend(el) {
    el.replaceChildren(...SCALE.map((s) => TF.el("span", { class: "key", "data-color": s.color },
      svgSwatch(s.color), " " + s.label)),
    TF.el("span", { class: "key" }, svgSwatch("#000000", "#ffd400", "4 3"), " " + TF.t("held")),
    TF.el("span", { class: "key" }, svgSwatch("url(#map-hatch-key)", "#b3141b"), " " + TF.t("closed")));
  }
  function svgSwatch(fill, stroke, dash) {
    return svg("svg", { class: "swatch", viewBox: "0 0 20 14", width: 20, height: 14, "aria-hidden": "true" },
      fill.startsWith("url") ? svg("defs", {}, svg("pattern", { id: "map-hatch-key", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#ffffff", "stroke-width": 3 }))) : null,
      svg("rect", { x: 1, y: 1, width: 18, height: 12, fill, stroke: stroke || "#ffffff", "stroke-width": 2, "stroke-dasharray": dash || null }));
  }

  // load reads the map with the key and draws it; it never throws.
  async function load(key) {
    const el = document.getElementById("map");
    if (!el || !key) return;
    const my = ++seq;
    let r;
    try { r = await TF.api("GET", "/v1/zones.geojson", key); } catch (e) { return; }
    if (my !== seq || r.status !== 200 || !r.body || !Array.isArray(r.body.features)) return;
    data = r.body;
    render();
  }

  function render() {
    const el = document.getElementById("map");
    if (!el || !data) return;
    draw(el, data, TF.lang);
    document.getElementById("map-box").dataset.loaded = "true";
    document.getElementById("map-empty").hidden = data.features.some((f) => f.geometry);
    legend(document.getElementById("map-legend"));
  }

  return { load, render, color, SCALE };
})();
