// Fleet: every site as a card: its power over the last day and the plan's forecast against what it draws now,
// its cooling, the states the node labeller sets, its accelerators by model, its agent's heartbeat. Sites
// short of power stand out.

import { get } from "./api.js";
import { age, h, s, watts } from "./dom.js";

const DAY = 86_400_000;

// The chart's window: the last 24 h to the end of the plan's horizon (24 h ahead), now in the middle.
function chart(site, history, now) {
  const from = now - DAY;
  const to = now + DAY;
  const past = history.points.map((p) => ({ at: Math.max(from, Date.parse(p.at)), watts: p.available }));
  const ahead = site.forecast.map((p) => ({ at: Math.max(now, Date.parse(p.at)), watts: p.supplyWatts }));
  const limits = site.forecast.map((p) => ({ at: Math.max(now, Date.parse(p.at)), watts: p.itLimitWatts }));
  const highest = Math.max(site.runningWatts, ...past.map((p) => p.watts), ...ahead.map((p) => p.watts));
  const top = Math.max(1, highest) * 1.1;
  const x = (at) => (300 * (at - from)) / (to - from);
  const y = (w) => 60 - (56 * w) / top;
  const steps = (points, end) => points.length === 0 ? "" : points.map((p, i) => {
    const next = i + 1 < points.length ? points[i + 1].at : end;
    return `${i ? "L" : "M"}${x(p.at).toFixed(1)},${y(p.watts).toFixed(1)} L${x(next).toFixed(1)},${y(p.watts).toFixed(1)}`;
  }).join(" ");
  const lowest = past.length ? Math.min(...past.map((p) => p.watts)) : null;
  const ahead0 = ahead.length ? Math.min(...ahead.map((p) => p.watts)) : site.supplyWatts;
  const label = `${site.name} power: ${watts(site.supplyWatts)} available now, ${watts(site.runningWatts)} drawn; `
    + (lowest === null ? "no power reported in the last 24 h" : `lowest reported in the last 24 h ${watts(lowest)}`)
    + `; lowest forecast in the next 24 h ${watts(ahead0)}.`;
  return h("figure", { class: "chart" },
    s("svg", { viewBox: "0 0 300 72", role: "img", "aria-label": label, class: "power-chart" },
      s("title", {}, label),
      s("line", { x1: 150, x2: 150, y1: 0, y2: 62, class: "now" }),
      highest > 0 ? s("text", { x: 2, y: 8 }, watts(top)) : s("text", { x: 2, y: 57 }, "0 W"),
      past.length ? null : s("text", { x: 75, y: 34, "text-anchor": "middle" }, "nothing reported"),
      s("path", { d: steps(past, now), class: "past" }),
      ...past.map((p) => s("circle", { cx: x(p.at).toFixed(1), cy: y(p.watts).toFixed(1), r: 1.6, class: "report" })),
      s("path", { d: steps(ahead, to), class: "ahead" }),
      s("path", { d: steps(limits, to), class: "limit-line" }),
      s("line", { x1: 140, x2: 160, y1: y(site.runningWatts), y2: y(site.runningWatts), class: "drawn-now" }),
      s("text", { x: 2, y: 70 }, "−24 h"), s("text", { x: 150, y: 70, "text-anchor": "middle" }, "now"),
      s("text", { x: 298, y: 70, "text-anchor": "end" }, "+24 h")));
}

// One key for every card's chart.
function legend() {
  return h("p", { class: "legend", id: "chart-key" }, "Charts, last 24 h to the next 24 h: ",
    h("span", { class: "key past" }, "power reported"), h("span", { class: "key ahead" }, "forecast supply"),
    h("span", { class: "key limit-line" }, "usable for IT"), h("span", { class: "key drawn-now" }, "drawn now"));
}

function state(kind, value) {
  return h("span", { class: `condition condition-${value}`, "data-condition": kind }, `${kind} ${value}`);
}

function accelerators(site) {
  const byModel = new Map();
  for (const pool of site.accelerators) {
    const seen = byModel.get(pool.modelName) ?? { count: 0, inUse: 0 };
    byModel.set(pool.modelName, { count: seen.count + pool.count, inUse: seen.inUse + pool.inUse });
  }
  return [...byModel].map(([model, n]) => `${n.inUse} of ${n.count} ${model}`).join(", ") || "none";
}

function heartbeat(site) {
  if (site.agent === null || site.agent === undefined) return "none: run by the server";
  if (!site.agentReportedAt) return `${site.agent}, no report since the server started`;
  return h("span", {}, `${site.agent}, last report `, h("span", { "data-since": site.agentReportedAt }, age(site.agentReportedAt)));
}

function card(site, history, waiting, now) {
  const shortfall = site.powerState === "shedding" || site.runningWatts > site.itLimitWatts + 1e-6 || waiting.length > 0;
  const headroom = site.coolingWatts - site.runningWatts;
  return h("article", { class: `site${shortfall ? " shortfall" : ""}`, "aria-describedby": "chart-key", "data-site": site.name, "aria-label": `site ${site.name}` },
    h("h2", {}, site.name, " ", h("span", { class: "country", title: "jurisdiction" }, site.country)),
    h("p", { class: "conditions" }, state("power", site.powerState), " ", state("thermal", site.thermalState)),
    shortfall ? h("p", { class: "alert" }, "Power shortfall", waiting.length ? `: ${waiting.join(", ")} waiting for power` : "") : null,
    chart(site, history, now),
    h("dl", {},
      h("dt", {}, "Supplied"), h("dd", {}, watts(site.supplyWatts), site.signalled ? " (reported " : " (nameplate)",
        site.powerReportedAt ? h("span", { "data-since": site.powerReportedAt }, age(site.powerReportedAt)) : "", site.signalled ? ")" : ""),
      h("dt", {}, "Usable for IT"), h("dd", {}, watts(site.itLimitWatts)),
      h("dt", {}, "Drawn"), h("dd", { class: "drawn-value" }, watts(site.runningWatts)),
      h("dt", {}, "Cooling"), h("dd", { class: "cooling" },
        `${watts(Math.max(0, headroom))} headroom of ${watts(site.coolingWatts)}, ${Math.round(site.ambientCelsius * 10) / 10} °C outside`),
      h("dt", {}, "Accelerators"), h("dd", { class: "accelerators" }, accelerators(site)),
      h("dt", {}, "Agent"), h("dd", { class: "heartbeat" }, heartbeat(site))));
}

export async function fleetPage(main) {
  const heading = h("h1", {}, "Fleet");
  const grid = h("div", { class: "sites" });
  main.append(heading, legend(), grid);
  async function load() {
    const [{ sites }, { workloads }] = await Promise.all([get("/v1/sites"), get("/v1/workloads")]);
    const histories = await Promise.all(sites.map((site) => get(`/v1/sites/${site.name}/power`)));
    const waiting = (site) => workloads
      .filter((w) => w.site === site && !w.held && (w.state === "pausing" || w.state === "paused"))
      .map((w) => w.name);
    const now = Date.now();
    grid.replaceChildren(...sites.map((site, i) => card(site, histories[i], waiting(site.name), now)));
    heading.textContent = `Fleet: ${sites.length} sites`;
  }
  await load();
  let pending = null;
  // Ages ("12 s ago") count up between reads; an agent's heartbeat is no event, so the page reads again now and then.
  let ticks = 0;
  const ticking = setInterval(() => {
    for (const element of grid.querySelectorAll("[data-since]")) element.textContent = age(element.dataset.since);
    if (++ticks % 15 === 0 && !pending) load();
  }, 1000);
  return {
    event(name) {
      if (!["sites", "power", "workload"].includes(name) || pending) return;
      pending = setTimeout(() => { pending = null; load(); }, 50);
    },
    leave() { clearInterval(ticking); clearTimeout(pending); },
  };
}
