// Fleet: every site as a card, power available against power drawn, and what the shortfall stops.

import { get } from "./api.js";
import { h, s, watts } from "./dom.js";

function powerBar(site) {
  const scale = Math.max(site.supplyWatts, site.runningWatts, 1);
  const width = (value) => `${Math.min(100, (100 * value) / scale).toFixed(1)}`;
  const label = `${watts(site.runningWatts)} drawn of ${watts(site.itLimitWatts)} usable (${watts(site.supplyWatts)} supplied)`;
  return s("svg", { class: "power", viewBox: "0 0 100 10", preserveAspectRatio: "none", role: "img", "aria-label": label },
    s("title", {}, label),
    s("rect", { class: "supply", x: 0, y: 0, width: width(site.supplyWatts), height: 10 }),
    s("rect", { class: "limit", x: 0, y: 0, width: width(site.itLimitWatts), height: 10 }),
    s("rect", { class: "drawn", x: 0, y: 3, width: width(site.runningWatts), height: 4 }));
}

function card(site, waiting) {
  const shortfall = site.runningWatts > site.itLimitWatts + 1e-6 || waiting.length > 0;
  const accelerators = Object.entries(site.acceleratorsInUse);
  return h("article", { class: `site${shortfall ? " shortfall" : ""}`, "data-site": site.name, "aria-label": `site ${site.name}` },
    h("h2", {}, site.name, " ", h("span", { class: "country", title: "jurisdiction" }, site.country)),
    shortfall ? h("p", { class: "alert" }, "Power shortfall", waiting.length ? `: ${waiting.join(", ")} waiting for power` : "") : null,
    powerBar(site),
    h("dl", {},
      h("dt", {}, "Supplied"), h("dd", {}, watts(site.supplyWatts), site.signalled ? " (reported)" : " (nameplate)"),
      h("dt", {}, "Usable for IT"), h("dd", {}, watts(site.itLimitWatts)),
      h("dt", {}, "Drawn"), h("dd", { class: "drawn-value" }, watts(site.runningWatts)),
      h("dt", {}, "Accelerators in use"),
      h("dd", {}, accelerators.length ? accelerators.map(([pool, n]) => `${n} × ${pool}`).join(", ") : "none"),
      h("dt", {}, "Agent"), h("dd", {}, site.agent ?? "run by the server")));
}

export async function fleetPage(main) {
  const heading = h("h1", {}, "Fleet");
  const grid = h("div", { class: "sites" });
  main.append(heading, grid);
  async function load() {
    const [{ sites }, { workloads }] = await Promise.all([get("/v1/sites"), get("/v1/workloads")]);
    const waiting = (site) => workloads
      .filter((w) => w.site === site && !w.held && (w.state === "pausing" || w.state === "paused"))
      .map((w) => w.name);
    grid.replaceChildren(...sites.map((site) => card(site, waiting(site.name))));
    heading.textContent = `Fleet: ${sites.length} sites`;
  }
  await load();
  let pending = null;
  return {
    event(name) {
      if (!["sites", "power", "workload"].includes(name) || pending) return;
      pending = setTimeout(() => { pending = null; load(); }, 50);
    },
  };
}
