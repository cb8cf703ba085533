// Mimamori SOC console: renders /api/state.json (mimamori-console, ag_soc) every 2 s.
// Everything from the feed is put in the page as text (textContent), never as markup.
"use strict";

const SEV_ORDER = ["critical", "high", "medium", "low", "informational", "unknown"];
const OPEN_DAYS = 7;                      // an incident older than this is no longer "open"
const handled = new Set(JSON.parse(localStorage.getItem("mimamori.handled") || "[]"));
let state = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}
function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString("ja-JP", { hour12: false });
}
function sevBadge(sev) { return el("span", { class: "sev sev-" + sev, text: sev }); }
function replaceChildren(id, nodes, emptyText) {
  const box = document.getElementById(id);
  box.replaceChildren(...nodes);
  if (!nodes.length && emptyText) {
    box.append(box.tagName === "TBODY"
      ? el("tr", {}, el("td", { colspan: "8", class: "empty", text: emptyText }))
      : el("p", { class: "empty", text: emptyText }));
  }
}
function incidentKey(e) { return e.sensor_id + "/" + e.incident.finding_id + "/" + e.timestamp; }

function renderHeader(s) {
  const c = s.console;
  document.getElementById("who").textContent =
    `${c.id}: provider ${c.provider}, region ${c.region}`;
  const feed = document.getElementById("feed");
  if (c.feed_age_s < 0) { feed.className = "feed unknown"; feed.textContent = "feed: nothing yet"; }
  else { feed.className = "feed ok"; feed.textContent = `feed: ${c.feed_frames} messages`; }
  document.getElementById("footer").textContent =
    `mimamori-console ${c.version} · aggregator ${c.aggregator} · updated ` +
    new Date(s.generated).toLocaleTimeString("ja-JP", { hour12: false }) +
    ` · ${s.counts.incidents} incidents and ${s.counts.warnings} warnings received`;
}

function renderIncidents(s) {
  const cutoff = Date.now() - OPEN_DAYS * 86400e3;
  const open = s.incidents.filter(e => new Date(e.timestamp) >= cutoff &&
                                       e.incident.detector !== "sensor.silent");
  open.sort((a, b) => SEV_ORDER.indexOf(a.incident.severity) - SEV_ORDER.indexOf(b.incident.severity)
                      || (a.timestamp < b.timestamp ? 1 : -1));
  const cards = open.map(e => {
    const i = e.incident, key = incidentKey(e);
    const card = el("div", { class: `card incident sev-border-${i.severity}` +
                                    (handled.has(key) ? " handled" : "") });
    const ind = i.indicator ? ` · ${i.indicator.type} ${i.indicator.value}` : "";
    card.append(
      el("h3", {}, sevBadge(i.severity), " ", el("span", { class: "org", text: e.org_id }),
         " — ", el("span", { text: i.category })),
      el("div", { class: "seen", text: `${when(i.seen)} · sensor ${e.sensor_id} · ${i.detector}${ind}` }),
      el("div", { class: "msg", text: i.message }),
      el("div", { class: "todo" }, el("strong", { text: "対応: " }), el("span", { class: "todo-ja", text: i.action.text_ja }),
         el("br"), el("span", { class: "todo-en", text: i.action.text_en })));
    const b = el("button", { text: handled.has(key) ? "handled ✓ (undo)" : "mark handled" });
    b.addEventListener("click", () => {
      if (handled.has(key)) handled.delete(key); else handled.add(key);
      localStorage.setItem("mimamori.handled", JSON.stringify([...handled]));
      render();
    });
    card.append(b);
    return card;
  });
  const pending = open.filter(e => !handled.has(incidentKey(e))).length;
  document.getElementById("n-incidents").textContent = `(${pending} open, ${open.length} in ${OPEN_DAYS} days)`;
  replaceChildren("incident-list", cards, "No severe incident in the last 7 days.");
}

function activeWarning(w) {
  return w.warning.status !== "revoked" &&
         (!w.warning.valid_until || new Date(w.warning.valid_until) > Date.now());
}

function renderWarnings(s) {
  const rows = s.warnings.map(e => {
    const w = e.warning;
    return el("tr", { class: "warning " + (activeWarning(e) ? "active" : "revoked") },
      el("td", { text: when(e.timestamp) }), el("td", { class: "org", text: e.org_id }),
      el("td", {}, sevBadge(w.severity)),
      el("td", { class: "indicator", text: `${w.indicator.type} ${w.indicator.value}` }),
      el("td", { text: w.relation.replaceAll("_", " ") }),
      el("td", { text: `${w.evidence.orgs} companies` }),
      el("td", { text: w.status }),
      el("td", { text: w.action.text_ja }));
  });
  const active = s.warnings.filter(activeWarning).length;
  document.getElementById("n-warnings").textContent = `(${active} active, ${s.warnings.length} in all)`;
  replaceChildren("warning-rows", rows, "No lateral warning received.");
}

const HEALTH_ORDER = ["silent", "quiet", "unheard", "ok"];
const HEALTH_TEXT = {
  silent: "silent: its broker has had no heartbeat from it",
  quiet: "quiet: no event for a while (its broker still hears it)",
  unheard: "unheard since the aggregator started",
  ok: "ok",
};
function renderHealth(s) {
  // One HEALTH per sensor from the aggregator; silent sensors first.
  const rows = [...s.health].sort((a, b) =>
    HEALTH_ORDER.indexOf(a.health.state) - HEALTH_ORDER.indexOf(b.health.state)
    || (a.sensor_id < b.sensor_id ? -1 : 1)).map(e => {
    const h = e.health;
    return el("tr", { class: "health " + h.state },
      el("td", { text: e.sensor_id }), el("td", { class: "org", text: e.org_id }),
      el("td", { class: "state-" + h.state, text: h.state }),
      el("td", { text: when(h.since) }),
      el("td", { text: (h.last_seen ? "last event " + when(h.last_seen) + " · " : "") +
                       h.events + " events · " + HEALTH_TEXT[h.state] }));
  });
  const bad = s.health.filter(e => e.health.state !== "ok").length;
  document.getElementById("n-health").textContent =
    `(${s.health.length} sensors, ${s.health.filter(e => e.health.state === "silent").length} silent, ${bad} not ok)`;
  replaceChildren("health-rows", rows, "No sensor reported yet.");
}

function renderTimeline(s) {
  const sel = document.getElementById("org-select");
  const orgs = [...new Set([...s.incidents, ...s.warnings].map(e => e.org_id))].sort();
  const current = sel.value;
  if ([...sel.options].map(o => o.value).join() !== orgs.join()) {
    sel.replaceChildren(...orgs.map(o => el("option", { value: o, text: o })));
    if (orgs.includes(current)) sel.value = current;
  }
  const org = sel.value;
  const items = [...s.incidents, ...s.warnings].filter(e => e.org_id === org)
    .sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).map(e => {
      if (e.event_type === "incident")
        return el("li", {}, el("span", { class: "when", text: when(e.timestamp) }), sevBadge(e.incident.severity),
                  ` incident: ${e.incident.message}`);
      const w = e.warning;
      return el("li", {}, el("span", { class: "when", text: when(e.timestamp) }), sevBadge(w.severity),
                ` warning (${w.status}): ${w.indicator.type} ${w.indicator.value}, ${w.relation.replaceAll("_", " ")}`);
    });
  replaceChildren("timeline-list", items, orgs.length ? "" : "Nothing yet.");
}

function renderStats(s) {
  const rows = s.stats.filter(r => r.schema === "mimamori.stats/1");
  document.getElementById("stats-period").textContent =
    rows.length ? `(${rows[0].period}, ${rows.length} cells)` : "(none yet)";
  const national = rows.filter(r => r.region === "all" && r.industry === "all" && !r.suppressed);
  const byCat = new Map();
  for (const r of national)
    byCat.set(r.category, Math.max(byCat.get(r.category) || 0, r.orgs_affected || 0));
  const cats = [...byCat.entries()].sort((a, b) => b[1] - a[1]);
  const label = c => (national.find(r => r.category === c) || {}).category_ja || c;
  const ns = "http://www.w3.org/2000/svg", barH = 22, w = 900, left = 420;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", Math.max(1, cats.length) * barH + 8);
  svg.setAttribute("role", "img"); svg.setAttribute("aria-label", "companies affected per category");
  const max = Math.max(1, ...cats.map(c => c[1]));
  cats.forEach(([cat, n], i) => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", 0); t.setAttribute("y", i * barH + 16); t.setAttribute("class", "bar-label");
    t.textContent = `${label(cat)} (${cat})`;
    const r = document.createElementNS(ns, "rect");
    const bw = Math.max(24, (w - left - 10) * n / max);
    r.setAttribute("x", left); r.setAttribute("y", i * barH + 3); r.setAttribute("width", bw);
    r.setAttribute("height", barH - 6); r.setAttribute("class", "bar");
    const v = document.createElementNS(ns, "text");
    v.setAttribute("x", left + 4); v.setAttribute("y", i * barH + 16); v.setAttribute("class", "bar-value");
    v.textContent = String(n);
    svg.append(t, r, v);
  });
  const chart = document.getElementById("stats-chart");
  chart.replaceChildren(cats.length ? svg : el("p", { class: "empty",
    text: rows.length ? "Every national cell is suppressed (too few companies)." : "No statistics yet." }));
  const shown = rows.filter(r => !r.suppressed).slice(0, 60).map(r => el("tr", {},
    el("td", { text: r.region_ja }), el("td", { text: r.industry_ja }), el("td", { text: r.category_ja }),
    el("td", { text: r.severity_ja }), el("td", { text: String(r.orgs_affected) }),
    el("td", { text: r.alerts === null ? "—" : String(r.alerts) }),
    el("td", { text: r.incidents_notified === null ? "—" : String(r.incidents_notified) })));
  replaceChildren("stats-rows", shown, "No published cell.");
}

function render() {
  if (!state) return;
  renderHeader(state); renderIncidents(state); renderWarnings(state);
  renderHealth(state); renderTimeline(state); renderStats(state);
  document.body.dataset.ready = "1";
}

async function refresh() {
  try {
    const r = await fetch("/api/state.json", { cache: "no-store" });
    if (!r.ok) throw new Error(r.status);
    state = await r.json();
    render();
  } catch (e) {
    const feed = document.getElementById("feed");
    feed.className = "feed stale"; feed.textContent = "console unreachable";
  }
}
document.getElementById("org-select").addEventListener("change", render);
refresh();
setInterval(refresh, 2000);
