// Tafweej console: what the gate and control-room pages share. No
// dependencies; everything the pages say is in both languages here.
"use strict";

const T = {
  ar: {
    title_gate: "بوابة الدخول — تفويج", title_ops: "غرفة العمليات — تفويج",
    lang_switch: "English", key_label: "مفتاح الدخول (API)", gate_label: "البوابة",
    save: "حفظ", settings: "الإعدادات", setup_title: "إعداد الجهاز",
    setup_help: "أدخل المفتاح مرة واحدة؛ يُحفظ على هذا الجهاز.",
    ticket_label: "رمز التذكرة", ticket_help: "امسح التذكرة بالماسح أو الصق الرمز ثم اضغط Enter.",
    count_label: "عدد الأشخاص", submit: "تحقق", camera: "الكاميرا", camera_stop: "إيقاف الكاميرا",
    camera_error: "تعذّر تشغيل الكاميرا",
    admit: "دخول", partial: "دخول جزئي", reject: "مرفوض",
    admitted: "دخل", remaining: "المتبقي", operator: "الشركة", language: "اللغة", wave: "الفوج",
    retry_at: "العودة في", party: "حجم المجموعة", booking: "الحجز",
    current_wave: "الفوج الحالي", next_wave: "الفوج التالي", site_shut: "الموقع مغلق الآن",
    hold_banner: "إيقاف مؤقت للأفواج: {zone} مزدحم ({live} شخص). أوقفوا دخول الأفواج المتجهة إليه.",
    closure_banner: "إغلاق: {zones}. السبب: {reason}", all_zones: "الموقع كاملاً",
    live: "مباشر", connecting: "جارٍ الاتصال…", offline: "انقطع الاتصال — إعادة المحاولة…",
    wrong_key: "المفتاح غير صحيح أو ملغى. أدخل مفتاحاً صالحاً.",
    forbidden_key: "هذا المفتاح لا يسمح بهذه الصفحة.",
    unreachable: "تعذّر الوصول إلى الخادم. تحقق من الشبكة.",
    retrying: "انقطاع في الشبكة — إعادة إرسال نفس المسح (محاولة {n})…",
    gave_up: "لم يصل المسح إلى الخادم. اضغط «إعادة المحاولة» — لن يُحتسب الدخول مرتين.",
    retry: "إعادة المحاولة", pending: "جارٍ التحقق…", busy: "انتظر نتيجة المسح السابق.",
    bad_request: "طلب غير صالح", rate_limited: "طلبات كثيرة؛ انتظر قليلاً.",
    reasons: {
      ok: "أهلاً وسهلاً", too_early: "مبكر جداً", too_late: "متأخر جداً", rebooked: "نُقل إلى فوج لاحق",
      already_used: "التذكرة مستخدمة", unknown_ticket: "تذكرة غير معروفة", invalid_signature: "تذكرة مزوّرة أو تالفة",
      wrong_gate: "بوابة خاطئة", unknown_gate: "بوابة غير معروفة", wrong_day: "يوم خاطئ", cancelled: "الحجز ملغى", held: "الفوج موقوف مؤقتاً",
      closed: "المنطقة مغلقة", bad_request: "مسح غير صالح",
    },
    // control room
    forecast_title: "توقعات الساعة القادمة", forecast_note: "الزوار المتوقعون في كل منطقة دقيقة بدقيقة مقابل عتبة الإيقاف والسعة",
    held_back_title: "مجموعات أُوقفت عند البوابات", visitors: "زوار", held_why: "السبب", retry_at: "العودة",
    held_why_text: "ستبلغ {zone} {forecast} من {hold} الساعة {at}", dwell_line: "المكوث: {learned} د (المهيأ {configured} د)",
    dwell_unlearned: "المكوث: {configured} د (لم يُتعلَّم بعد)", peak_line: "الذروة {peak} الساعة {at}",
    zones: "المناطق", zone: "المنطقة", capacity: "السعة", planned: "المخطط", live_occ: "الحالي",
    inside: "داخل حسب الدخول", held: "موقوف", closed: "مغلق", open: "مفتوح",
    close_zone: "إغلاق", reopen: "إعادة فتح", close_site: "إغلاق الموقع كاملاً",
    waves: "الأفواج القادمة", slot: "الوقت", gate: "البوابة", booked: "محجوز", groups: "مجموعات", no_show: "لم يحضر",
    closures: "الإغلاقات السارية", reason: "السبب", since: "منذ", source: "المصدر", none: "لا شيء",
    scans: "آخر عمليات الدخول", problems: "مشاكل أجهزة الاستشعار", time: "الوقت",
    confirm_close: "تأكيد إغلاق {zone}", confirm_reopen: "تأكيد إعادة فتح {zone}",
    reason_required: "اكتب سبب الإغلاق.", confirm: "تأكيد", cancel: "إلغاء",
    clock: "الساعة", updated: "آخر تحديث", site_closed: "الموقع مغلق", evacuation: "داخل الموقع الآن",
    hold_at: "حد الإيقاف", done_close: "تم الإغلاق", done_reopen: "تمت إعادة الفتح",
    map: "خريطة المحمية", map_empty: "لا توجد خريطة للمناطق (ملف ‎.geojson‎ بجانب ملف الإعداد).",
    map_note: "الحدود تقريبية للتوضيح فقط. اللون: الإشغال الحالي من السعة.",
    clock_sim: "ساعة محاكاة ×{speed}", clock_manual: "ساعة يدوية (اختبار)",
    // capacity cuts
    cuts: "تخفيض السعة", cut_new: "تخفيض جديد", cut_target: "المنطقة أو البوابة", gates: "البوابات",
    cut_capacity: "السعة المخفّضة", cut_capacity_help: "السعة المعتمدة {configured}؛ المقبول من 1 إلى {max}.",
    cut_until: "ينتهي التخفيض", cut_until_time: "الساعة", cut_until_date: "التاريخ (فارغ = اليوم)",
    cut_submit: "خفّض السعة", kind_zone: "منطقة", kind_gate: "بوابة (سعة الفوج)",
    wave_cap: "الفوج {capacity}", of_configured: "من {configured}", in_force: "ساري المفعول", scheduled: "مجدول",
    cut_chip: "سعة مخفّضة", cut_from: "مخفّضة من {configured}", lift: "رفع التخفيض", lift_label: "رفع تخفيض {target}",
    confirm_cut: "تأكيد تخفيض سعة {target} إلى {capacity} (المعتمدة {configured}) حتى {until}",
    confirm_lift: "تأكيد رفع تخفيض {target} (السعة المخفّضة {capacity})",
    cut_reason_required: "اكتب سبب التخفيض.", cut_target_required: "اختر منطقة أو بوابة.",
    cut_capacity_range: "السعة المخفّضة يجب أن تكون عدداً صحيحاً بين 1 و{max}.",
    cut_until_required: "اختر ساعة انتهاء التخفيض.", cut_until_past: "يجب أن ينتهي التخفيض بعد الآن.",
    cut_log: "مجموعات نقلها التخفيض (منذ فتح الصفحة)",
    over_title: "حجوزات تتجاوز السعة المعتمدة حالياً",
    over_help: "خُفّضت السعات في الإعدادات بعد أن حُجزت هذه الأيام. أعد تخطيط كل يوم: تُنقل المجموعات إلى أفواج فيها متسع، أو تُلغى مع ذكر السبب إن لم يبقَ متسع.",
    over_date: "{date}: {waves} فوجاً و{zones} منطقة فوق السعة", over_zone: "{zone}: {planned} من {capacity} ({from}–{until})",
    over_gate: "{gate}: {waves} فوجاً، أكثرها {booked} من {capacity} الساعة {slot}", over_chip: "فوق السعة",
    replan: "إعادة التخطيط", replan_label: "إعادة تخطيط يوم {date}",
    confirm_replan: "إعادة تخطيط يوم {date}؟ تُنقل المجموعات التي تتجاوز السعة إلى أفواج فيها متسع، أو تُلغى إن لم يبقَ متسع.",
    replanned: "أُعيد تخطيط يوم {date}: نُقلت {moved} مجموعة ({left} منها خارج نافذتها)، أُلغيت {cancelled}، وبقيت {unchanged} مكانها.",
    moved_to: "{booking} ({operator}، {party}) نُقل إلى {slot} — {gate}", cancelled_by: "{booking} ({operator}، {party}) أُلغي",
    // planned days
    planned_days: "الأيام المخططة", planned_rule: "الأيام المخططة: {periods}. تُغلق الطلبات قبل اليوم بـ{days} أيام الساعة {time}.",
    every_day: "كل الأيام", next_cutoff: "الإغلاق القادم: {cutoff} (طلبات يوم {date})", cutoff: "آخر موعد للطلبات",
    phase_open: "الطلبات مفتوحة", phase_planning: "أُغلقت الطلبات — جارٍ التوزيع", phase_done: "تم التوزيع",
    st_pending: "بانتظار التوزيع", st_allotted: "خُصّص لها فوج", st_not_placed: "لم يُعثر لها على مكان", st_withdrawn: "مسحوبة",
    status_col: "الحالة", requests_col: "الطلبات", visitors: "الزوار",
    allotment: "التوزيع: {allotted} من {requests} طلباً، {visitors} من {requested} زائراً.",
    replaced: "{n} منها بنظام الأسبق فالأسبق.", no_planned: "لا طلبات للأيام المخططة القادمة.",
    requests_error: "تعذّر تحميل الطلبات: {error}",
  },
  en: {
    title_gate: "Entry gate — Tafweej", title_ops: "Control room — Tafweej",
    lang_switch: "العربية", key_label: "API key", gate_label: "Gate",
    save: "Save", settings: "Settings", setup_title: "Set up this device",
    setup_help: "Enter the key once; it is kept on this device.",
    ticket_label: "Ticket code", ticket_help: "Scan the ticket with the scanner, or paste the code, then press Enter.",
    count_label: "People", submit: "Check", camera: "Camera", camera_stop: "Stop camera",
    camera_error: "The camera could not be started",
    admit: "ADMIT", partial: "PARTIAL", reject: "REJECT",
    admitted: "Admitted", remaining: "Remaining", operator: "Operator", language: "Language", wave: "Wave",
    retry_at: "Come back at", party: "Party size", booking: "Booking",
    current_wave: "Current wave", next_wave: "Next wave", site_shut: "The site is closed now",
    hold_banner: "Waves on hold: {zone} is crowded ({live} people). Do not let waves heading there in.",
    closure_banner: "Closed: {zones}. Reason: {reason}", all_zones: "the whole site",
    live: "Live", connecting: "Connecting…", offline: "Connection lost — reconnecting…",
    wrong_key: "Wrong or revoked key. Enter a valid key.",
    forbidden_key: "This key is not allowed on this page.",
    unreachable: "The server cannot be reached. Check the network.",
    retrying: "Network problem — sending the same scan again (attempt {n})…",
    gave_up: "The scan did not reach the server. Press Retry: nobody is admitted twice.",
    retry: "Retry", pending: "Checking…", busy: "Wait for the result of the previous scan.",
    bad_request: "Bad request", rate_limited: "Too many requests; wait a moment.",
    reasons: {
      ok: "Welcome", too_early: "Too early", too_late: "Too late", rebooked: "Moved to a later wave",
      already_used: "Ticket already used", unknown_ticket: "Unknown ticket", invalid_signature: "Forged or damaged ticket",
      wrong_gate: "Wrong gate", unknown_gate: "Unknown gate", wrong_day: "Wrong day", cancelled: "Booking cancelled", held: "Wave on hold",
      closed: "Zone closed", bad_request: "Invalid scan",
    },
    forecast_title: "Forecast of the next hour", forecast_note: "Visitors forecast in each zone minute by minute against the hold threshold and the capacity",
    held_back_title: "Groups held back at the gates", visitors: "Visitors", held_why: "Why", retry_at: "Back at",
    held_why_text: "{zone} would reach {forecast} of {hold} at {at}", dwell_line: "dwell: {learned} min (configured {configured} min)",
    dwell_unlearned: "dwell: {configured} min (not learned yet)", peak_line: "peak {peak} at {at}",
    zones: "Zones", zone: "Zone", capacity: "Capacity", planned: "Planned", live_occ: "Live",
    inside: "Inside by admissions", held: "HELD", closed: "CLOSED", open: "open",
    close_zone: "Close", reopen: "Reopen", close_site: "Close the whole site",
    waves: "Waves of the next hours", slot: "Time", gate: "Gate", booked: "Booked", groups: "Groups", no_show: "No-show",
    closures: "Closures in force", reason: "Reason", since: "Since", source: "Source", none: "None",
    scans: "Latest scans", problems: "Sensor problems", time: "Time",
    confirm_close: "Confirm closing {zone}", confirm_reopen: "Confirm reopening {zone}",
    reason_required: "Write the reason for the closure.", confirm: "Confirm", cancel: "Cancel",
    clock: "Clock", updated: "Updated", site_closed: "SITE CLOSED", evacuation: "In the reserve now",
    hold_at: "hold at", done_close: "Closed", done_reopen: "Reopened",
    map: "Map of the reserve", map_empty: "No map of the zones (a .geojson file beside the site config).",
    map_note: "Outlines are approximate, for illustration. Colour: live occupancy against capacity.",
    clock_sim: "simulated clock ×{speed}", clock_manual: "manual clock (test)",
    cuts: "Capacity cuts", cut_new: "New cut", cut_target: "Zone or gate", gates: "Gates",
    cut_capacity: "Reduced capacity", cut_capacity_help: "Configured {configured}; accepted 1 to {max}.",
    cut_until: "Cut ends", cut_until_time: "Time", cut_until_date: "Date (empty: today)",
    cut_submit: "Cut capacity", kind_zone: "zone", kind_gate: "gate (wave)",
    wave_cap: "wave {capacity}", of_configured: "of {configured}", in_force: "in force", scheduled: "scheduled",
    cut_chip: "CUT", cut_from: "cut from {configured}", lift: "Lift", lift_label: "Lift the cut of {target}",
    confirm_cut: "Confirm cutting {target} to {capacity} (configured {configured}) until {until}",
    confirm_lift: "Confirm lifting the cut of {target} (cut capacity {capacity})",
    cut_reason_required: "Write the reason for the cut.", cut_target_required: "Choose a zone or a gate.",
    cut_capacity_range: "The reduced capacity must be a whole number from 1 to {max}.",
    cut_until_required: "Choose the time the cut ends.", cut_until_past: "The cut must end later than now.",
    cut_log: "Groups moved by cuts (since this page opened)",
    over_title: "Bookings over the capacity now configured",
    over_help: "Capacities were lowered in the configuration after these days were booked. Re-plan each date: groups are moved to waves with room, or cancelled with the reason if the day has none left.",
    over_date: "{date}: {waves} waves and {zones} zones over capacity", over_zone: "{zone}: {planned} of {capacity} ({from}–{until})",
    over_gate: "{gate}: {waves} waves, the fullest {booked} of {capacity} at {slot}", over_chip: "over capacity",
    replan: "Re-plan", replan_label: "Re-plan {date}",
    confirm_replan: "Re-plan {date}? Groups over capacity are moved to waves with room, or cancelled if the day has none left.",
    replanned: "{date} re-planned: {moved} groups moved ({left} outside their window), {cancelled} cancelled, {unchanged} left where they were.",
    moved_to: "{booking} ({operator}, {party}) moved to {slot} at {gate}", cancelled_by: "{booking} ({operator}, {party}) cancelled",
    planned_days: "Planned days", planned_rule: "Planned days: {periods}. Requests close {days} days before the day, at {time}.",
    every_day: "every day", next_cutoff: "Next cut-off: {cutoff} (requests for {date})", cutoff: "Cut-off",
    phase_open: "requests open", phase_planning: "requests closed — being allotted", phase_done: "allotted",
    st_pending: "Pending", st_allotted: "Allotted", st_not_placed: "Not placed", st_withdrawn: "Withdrawn",
    status_col: "Status", requests_col: "Requests", visitors: "Visitors",
    allotment: "Allotment: {allotted} of {requests} requests placed, {visitors} of {requested} visitors.",
    replaced: "{n} of them first come first served.", no_planned: "No requests for the coming planned days.",
    requests_error: "The requests could not be loaded: {error}",
  },
};

const TF = {
  lang: localStorage.getItem("tafweej.lang") || "ar",
  site: null,

  t(key, vars) {
    let s = (T[TF.lang] && T[TF.lang][key]) ?? T.en[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll("{" + k + "}", String(v));
    return s;
  },
  reason(r) { return (T[TF.lang].reasons[r]) || r; },
  // text picks a {en, ar} text in the page's language, in the console's
  // one digit style (Latin in both languages, as every time and figure).
  text(tx) { return tx ? TF.digits(tx[TF.lang] || tx.en || "") : ""; },

  // digits writes Arabic-Indic and Eastern Arabic-Indic digits as Latin
  // ones: the service's Arabic messages carry them, the rest of the
  // console does not.
  digits(s) { return String(s).replace(/[\u0660-\u0669\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) % 16)); },

  // clockName translates the service's clock ("wall", "manual",
  // "simulated ×30 from 2026-12-01T07:45:00+03:00"); "" for the wall clock.
  clockName(name) {
    if (!name || name === "wall") return "";
    if (name === "manual") return TF.t("clock_manual");
    const m = /^simulated ×([0-9.e+]+)/.exec(name);
    return m ? TF.t("clock_sim", { speed: m[1] }) : name;
  },

  // applyLang sets dir/lang on <html> and fills every [data-t] element.
  applyLang() {
    const html = document.documentElement;
    html.lang = TF.lang;
    html.dir = TF.lang === "ar" ? "rtl" : "ltr";
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = TF.t(el.dataset.t);
    for (const el of document.querySelectorAll("[data-t-ph]")) el.placeholder = TF.t(el.dataset.tPh);
    for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", TF.t(el.dataset.tLabel));
  },
  setLang(l) { TF.lang = l; localStorage.setItem("tafweej.lang", l); TF.applyLang(); },
  toggleLang() { TF.setLang(TF.lang === "ar" ? "en" : "ar"); },

  // time formats a time as HH:MM in the site's zone.
  time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    try {
      return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23",
        timeZone: TF.site ? TF.site.time_zone : undefined }).format(d);
    } catch (e) { return d.toISOString().slice(11, 16); }
  },

  // day formats a date "YYYY-MM-DD" (or a day of the year "MM-DD") in the
  // page's language, with Latin digits like the rest of the page.
  day(date, withWeekday) {
    if (!date) return "";
    const iso = date.length === 5 ? "2001-" + date : date;
    const opts = { day: "numeric", month: "short", timeZone: "UTC" };
    if (withWeekday && date.length !== 5) opts.weekday = "short";
    try {
      return new Intl.DateTimeFormat(TF.lang === "ar" ? "ar-JO-u-nu-latn" : "en-GB", opts).format(new Date(iso + "T00:00:00Z"));
    } catch (e) { return date; }
  },

  // when formats a time: HH:MM on the day `today` ("YYYY-MM-DD", the
  // site's), the date and HH:MM on another day. The API writes times in the
  // site's zone, so their first ten characters are the site's date.
  when(iso, today) {
    if (!iso) return "";
    const d = String(iso).slice(0, 10);
    return d === today ? TF.time(iso) : TF.day(d) + " " + TF.time(iso);
  },

  // siteISO is the RFC 3339 time of a date ("YYYY-MM-DD") and clock time
  // ("HH:MM") in the site's time zone, with the zone's offset then.
  siteISO(date, hhmm) {
    const [y, mo, d] = date.split("-").map(Number);
    const [h, mi] = hhmm.split(":").map(Number);
    const wall = Date.UTC(y, mo - 1, d, h, mi);
    const tz = TF.site && TF.site.time_zone;
    const offsetAt = (ms) => {
      if (!tz) return -new Date(ms).getTimezoneOffset();
      const p = {};
      for (const x of new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(new Date(ms))) p[x.type] = Number(x.value);
      return Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / 60000) * 60000) / 60000);
    };
    let off = offsetAt(wall);
    off = offsetAt(wall - off * 60000);
    const pad = (n) => String(n).padStart(2, "0");
    const a = Math.abs(off);
    return date + "T" + pad(h) + ":" + pad(mi) + ":00" + (off < 0 ? "-" : "+") + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
  },

  // el makes an element. A style is an object of CSSOM properties
  // ({ inlineSize: "40%" }), set on element.style: the pages' CSP blocks
  // style attributes, so a string style is refused here rather than
  // dropped by the browser.
  el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "style") {
        if (typeof v !== "object" || v === null) throw new TypeError("TF.el: style must be an object of CSSOM properties, not " + JSON.stringify(v) + " (the CSP blocks style attributes)");
        for (const [p, x] of Object.entries(v)) e.style[p] = x;
      }
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  },

  async loadSite() {
    const r = await fetch("/web/site.json", { cache: "no-store" });
    if (!r.ok) throw new Error("site.json " + r.status);
    TF.site = await r.json();
    TF.site.offset = new Date(TF.site.now).getTime() - Date.now();
    return TF.site;
  },

  // api calls the HTTP API with the key. It resolves to {status, body};
  // it rejects (TypeError) only when the network failed.
  async api(method, path, key, body) {
    const init = { method, headers: { "Authorization": "Bearer " + key }, cache: "no-store" };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { status: r.status, body: data };
  },

  // claimLink signs the device in from a console sign-in link
  // (tafweej console-link): it takes the token out of the address bar and
  // its history entry at once, then exchanges it, once, for the console's
  // key. It resolves to {key, gate} or null (no link, or a link that is
  // used, expired or forged: the page then asks for a key as before).
  async claimLink() {
    const m = /^#link=([A-Za-z0-9._-]+)$/.exec(location.hash);
    if (!m) return null;
    history.replaceState(null, "", location.pathname + location.search);
    try {
      const r = await fetch("/v1/console-links/claim", { method: "POST", cache: "no-store",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: m[1] }) });
      if (r.status !== 201) return null;
      const a = await r.json();
      return { key: a.key, gate: a.gate || "" };
    } catch (e) { return null; }
  },

  // checkKey asks /web/events whether the key may stream: "ok", "wrong",
  // "forbidden" or "unreachable".
  async checkKey(key) {
    try {
      const r = await fetch("/web/events?check=1&key=" + encodeURIComponent(key), { cache: "no-store" });
      if (r.status === 204) return "ok";
      if (r.status === 401) return "wrong";
      if (r.status === 403) return "forbidden";
      return "unreachable";
    } catch (e) { return "unreachable"; }
  },

  // stream opens the event stream and reconnects; onEvent gets each
  // {"kind","at","data"}, onState "live", "connecting", "offline" or "wrong".
  stream(key, onEvent, onState) {
    let es = null, timer = null;
    const open = () => {
      onState("connecting");
      es = new EventSource("/web/events?key=" + encodeURIComponent(key));
      es.addEventListener("ready", () => onState("live"));
      es.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* not ours */ } };
      es.onerror = async () => {
        if (es.readyState !== EventSource.CLOSED) { onState("offline"); return; }
        es.close();
        const k = await TF.checkKey(key);
        if (k === "wrong" || k === "forbidden") { onState(k); return; }
        onState("offline");
        clearTimeout(timer);
        timer = setTimeout(open, 3000);
      };
    };
    open();
    return { close() { clearTimeout(timer); if (es) es.close(); } };
  },
};
