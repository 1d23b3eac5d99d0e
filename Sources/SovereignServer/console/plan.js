// Plan: what the planner decided at the last pass: per site, usable power against what runs; per workload,
// where and when it starts, or why it waits.

import { get } from "./api.js";
import { h, s, stateBadge, time, watts } from "./dom.js";

const LEFT = 170;
const RIGHT = 990;
const ROW = 16;

// The site's IT budget over the horizon as a filled step area, scaled to the band's height.
function budgetArea(site, band, x, end) {
  const top = Math.max(1, site.runningWatts, ...site.forecast.map((p) => p.itLimitWatts));
  const y = (w) => band.bottom - ((band.bottom - band.top) * w) / top;
  const points = site.forecast.map((p, i) => {
    const from = x(Date.parse(p.at));
    const to = i + 1 < site.forecast.length ? x(Date.parse(site.forecast[i + 1].at)) : x(end);
    return `L${from.toFixed(1)},${y(p.itLimitWatts).toFixed(1)} L${to.toFixed(1)},${y(p.itLimitWatts).toFixed(1)}`;
  });
  const first = site.forecast.length ? x(Date.parse(site.forecast[0].at)) : LEFT;
  const last = x(end);
  const d = `M${first.toFixed(1)},${band.bottom} ${points.join(" ")} L${last.toFixed(1)},${band.bottom} Z`;
  return s("g", { class: "budget", "data-site": site.name },
    s("path", { d, class: "budget-area" }),
    s("line", { x1: LEFT, x2: RIGHT, y1: y(site.runningWatts), y2: y(site.runningWatts), class: "drawn-line" }));
}

// When a workload's work ends: its planned end, else (for one that runs) now plus what the planner's estimate
// leaves of it, else nothing known.
function ending(w, listed, now) {
  if (w.endsAt) return { at: Date.parse(w.endsAt), estimated: false };
  if (listed?.estimatedSeconds && listed.progress != null) {
    return { at: now + 1000 * listed.estimatedSeconds * (1 - listed.progress), estimated: true };
  }
  return null;
}

function bar(w, y, x, start, end, listed) {
  const running = ["running", "pausing", "resuming"].includes(w.state);
  if (!w.startsAt && !running) return s("text", { x: LEFT + 4, y: y + 11, class: "note", "data-workload": w.name }, `${w.name}: waiting`);
  const from = running ? x(start) : x(Date.parse(w.startsAt));
  const to = x(ending(w, listed, start)?.at ?? end);
  const width = Math.max(2, to - from);
  // A name that does not fit in its bar goes after it.
  const inside = width > 8 * w.name.length;
  return s("g", { "data-workload": w.name },
    s("rect", { x: from, y: y + 2, width, height: ROW - 4, class: `bar bar-${w.state}` }),
    s("text", { x: inside ? from + 4 : from + width + 4, y: y + 12, class: inside ? "bar-label" : "" }, w.name));
}

function gantt(plan, listed) {
  const start = Date.parse(plan.at);
  const end = start + plan.horizonSeconds * 1000;
  const x = (at) => LEFT + ((RIGHT - LEFT) * (Math.max(start, Math.min(end, at)) - start)) / (end - start);
  const bySite = new Map(plan.sites.map((site) => [site.name, []]));
  const unplaced = [];
  for (const w of plan.workloads) (bySite.get(w.site) ?? unplaced).push(w);
  let y = 24;
  const bands = [];
  for (const site of plan.sites) {
    const rows = bySite.get(site.name);
    const height = 22 + ROW * Math.max(1, rows.length);
    const band = { top: y + 4, bottom: y + height - 2 };
    bands.push(s("g", { class: "band" },
      s("rect", { x: 0, y, width: RIGHT, height, class: "band-bg" }),
      budgetArea(site, band, x, end),
      s("text", { x: 4, y: y + 15, class: "site-name" }, site.name),
      s("text", { x: 4, y: y + 29, class: "note" }, `up to ${watts(Math.max(0, ...site.forecast.map((p) => p.itLimitWatts)))}`),
      ...rows.map((w, i) => bar(w, y + 18 + i * ROW, x, start, end, listed.get(w.name)))));
    y += height;
  }
  if (unplaced.length) {
    bands.push(s("text", { x: 4, y: y + 15, class: "site-name" }, "not placed"),
      ...unplaced.map((w, i) => s("text", { x: LEFT + 4, y: y + 15 + i * ROW, class: "note" }, `${w.name}: ${w.explanation ?? "waiting"}`.slice(0, 110))));
    y += 22 + ROW * unplaced.length;
  }
  const hours = plan.horizonSeconds / 3600;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => s("g", {},
    s("line", { x1: LEFT + f * (RIGHT - LEFT), x2: LEFT + f * (RIGHT - LEFT), y1: 18, y2: y, class: "tick" }),
    s("text", { x: LEFT + f * (RIGHT - LEFT), y: 13, "text-anchor": f === 1 ? "end" : f === 0 ? "start" : "middle", class: "note" },
      f === 0 ? "now" : `+${(f * hours).toFixed(0)} h`)));
  const label = `Gantt of ${plan.workloads.length} workloads over the next ${hours} hours, by site, each site's IT power budget `
    + "shaded behind its work; the tables below give the same plan and budgets in text.";
  return s("svg", { class: "gantt", viewBox: `0 0 ${RIGHT + 6} ${y + 4}`, role: "img", "aria-label": label },
    s("title", {}, label), ...bands, ...ticks);
}

export async function planPage(main) {
  const box = h("div");
  main.append(h("h1", {}, "Plan"), box);
  async function load() {
    const [plan, { workloads }] = await Promise.all([get("/v1/plan"), get("/v1/workloads")]);
    const listed = new Map(workloads.map((w) => [w.name, w]));
    const ends = (w) => {
      const end = ending(w, listed.get(w.name), Date.parse(plan.at));
      return end ? `${end.estimated ? "~" : ""}${time(new Date(end.at).toISOString())}` : "";
    };
    box.replaceChildren(
      h("p", {}, `Made ${time(plan.at)}, every ${plan.stepSeconds / 60} min over ${plan.horizonSeconds / 3600} h.`),
      h("p", { class: "legend" }, h("span", { class: "key budget-key" }, "IT power budget"), h("span", { class: "key drawn-key" }, "drawn now"),
        h("span", { class: "key running-key" }, "running"), h("span", { class: "key planned-key" }, "planned"), h("span", { class: "key paused-key" }, "pausing or paused")),
      gantt(plan, listed),
      plan.workloads.length ? "" : h("p", {}, "No workload is waiting or running."),
      h("table", {}, h("thead", {}, h("tr", {}, ...["Workload", "State", "Site", "Starts", "Ends", "Why"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...plan.workloads.map((w) => h("tr", {},
          h("td", {}, h("a", { href: `#/workloads/${w.name}` }, w.name)), h("td", {}, stateBadge(w.state)),
          h("td", {}, w.site ?? ""), h("td", {}, time(w.startsAt)), h("td", {}, ends(w)), h("td", {}, w.explanation ?? ""))))),
      h("h2", {}, "Power by site"),
      h("table", { class: "budgets" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Site"),
        ...["Usable now", "Lowest ahead", "Drawn"].map((c) => h("th", { scope: "col", class: "number" }, c)),
        h("th", { scope: "col" }, "Power"), h("th", { scope: "col" }, "Thermal"))),
        h("tbody", {}, ...plan.sites.map((site) => h("tr", { "data-site": site.name }, h("td", {}, site.name),
          h("td", { class: "number" }, watts(site.itLimitWatts)),
          h("td", { class: "number" }, watts(Math.min(site.itLimitWatts, ...site.forecast.map((p) => p.itLimitWatts)))),
          h("td", { class: "number" }, watts(site.runningWatts)), h("td", {}, site.powerState), h("td", {}, site.thermalState))))));
  }
  await load();
  let pending = null;
  return { event() { if (!pending) pending = setTimeout(() => { pending = null; load(); }, 250); } };
}
