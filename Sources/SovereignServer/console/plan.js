// Plan: what the planner decided at the last pass: per site, usable power against what runs; per workload,
// where and when it starts, or why it waits.

import { get } from "./api.js";
import { h, s, stateBadge, time, watts } from "./dom.js";

function gantt(plan) {
  const rows = plan.workloads;
  const start = new Date(plan.at).getTime();
  const span = plan.horizonSeconds * 1000;
  const x = (iso) => Math.max(0, Math.min(100, (100 * (new Date(iso).getTime() - start)) / span));
  const height = 12 + rows.length * 16;
  const label = `${rows.length} workloads over the next ${plan.horizonSeconds / 3600} hours`;
  return s("svg", { class: "gantt", viewBox: `0 0 140 ${height}`, role: "img", "aria-label": label },
    s("title", {}, label),
    ...[0, 25, 50, 75, 100].map((p) => s("line", { x1: 40 + p, x2: 40 + p, y1: 0, y2: height, class: "tick" })),
    ...rows.map((w, i) => {
      const y = 8 + i * 16;
      const from = w.startsAt ? x(w.startsAt) : 0;
      const running = ["running", "pausing", "resuming"].includes(w.state);
      return s("g", {},
        s("text", { x: 0, y: y + 7, class: "name" }, w.name.slice(0, 14)),
        w.startsAt || running
          ? s("rect", { x: 40 + from, y, width: Math.max(1, 100 - from), height: 9, class: `bar bar-${w.state}` })
          : s("text", { x: 41, y: y + 7, class: "note" }, "waiting"));
    }));
}

export async function planPage(main) {
  const box = h("div");
  main.append(h("h1", {}, "Plan"), box);
  async function load() {
    const plan = await get("/v1/plan");
    box.replaceChildren(
      h("p", {}, `Made ${time(plan.at)}, every ${plan.stepSeconds / 60} min over ${plan.horizonSeconds / 3600} h.`),
      plan.workloads.length ? gantt(plan) : h("p", {}, "No workload is waiting or running."),
      h("table", {}, h("thead", {}, h("tr", {}, ...["Workload", "State", "Site", "Starts", "Why"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...plan.workloads.map((w) => h("tr", {},
          h("td", {}, h("a", { href: `#/workloads/${w.name}` }, w.name)), h("td", {}, stateBadge(w.state)),
          h("td", {}, w.site ?? ""), h("td", {}, time(w.startsAt)), h("td", {}, w.explanation ?? ""))))),
      h("h2", {}, "Power by site"),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Site"), h("th", { scope: "col", class: "number" }, "Usable"), h("th", { scope: "col", class: "number" }, "Drawn"))),
        h("tbody", {}, ...plan.sites.map((site) => h("tr", {}, h("td", {}, site.name),
          h("td", { class: "number" }, watts(site.itLimitWatts)), h("td", { class: "number" }, watts(site.runningWatts)))))));
  }
  await load();
  let pending = null;
  return { event() { if (!pending) pending = setTimeout(() => { pending = null; load(); }, 250); } };
}
