// Sovereignty: the five-layer matrix (the data of `sovereign assess`) as a heatmap, sites by layers, each
// cell a button that shows the facts and reasons behind its level; beside it, the stress tests: the fleet
// simulated without what a vendor, a country or an operator could take away, against the uncut fleet.

import { get } from "./api.js";
import { h, s } from "./dom.js";

// The cuts the page runs first: the example of `sovereign assess --help` and the README.
const DEFAULT_CUTS = "vendor=NVIDIA operator-jurisdiction=US";

function cell(site, layer, levels, show) {
  const level = layer.level ?? null; // left out of the JSON when the layer could not be assessed
  const name = level === null ? "unknown" : levels[String(level)] ?? `SEAL-${level}`;
  const label = `${site}, ${layer.layer}: ${level === null ? "not assessed" : `SEAL-${level} ${name}`}`;
  return h("td", {}, h("button", { type: "button", class: `seal seal-${level ?? "none"}`, "aria-label": label,
    onclick: () => show(site, layer, name) }, level === null ? "–" : `${level}`));
}

function heatmap(data, detail) {
  const layers = data.fleet.map((l) => l.layer);
  const show = (site, layer, name) => detail.replaceChildren(
    h("h2", {}, `${site} · ${layer.layer}: ${layer.level == null ? "not assessed" : `SEAL-${layer.level} (${name})`}`),
    h("h3", {}, "Why"), h("ul", {}, ...layer.reasons.map((r) => h("li", {}, r))),
    h("h3", {}, "Facts"), h("ul", {}, ...layer.facts.map((f) => h("li", {}, f))));
  const row = (name, jurisdiction, cells) => h("tr", {}, h("th", { scope: "row" }, name, jurisdiction ? ` (${jurisdiction})` : ""),
    ...cells.map((l) => cell(name, l, data.levels, show)));
  return h("table", { class: "heatmap" },
    h("caption", { class: "visually-hidden" }, "SEAL level by site and layer"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Site"), ...layers.map((l) => h("th", { scope: "col" }, l)))),
    h("tbody", {}, ...data.sites.map((x) => row(x.site, x.jurisdiction, x.layers)), row("fleet", "", data.fleet)));
}

// A bar of what is left out of the whole, with the numbers in words beside it.
function left(kept, total, unit = "") {
  const share = total > 0 ? Math.max(0, Math.min(1, kept / total)) : 0;
  const words = `${kept} of ${total}${unit ? ` ${unit}` : ""} (${Math.round(100 * share)}%)`;
  return h("span", { class: "kept" },
    s("svg", { viewBox: "0 0 100 8", class: "kept-bar", "aria-hidden": "true", preserveAspectRatio: "none" },
      s("rect", { x: 0, y: 0, width: 100, height: 8, class: "whole" }),
      s("rect", { x: 0, y: 0, width: (100 * share).toFixed(1), height: 8, class: share < 0.5 ? "part low" : "part" })),
    " ", words);
}

function scenario(x, uncut) {
  const round = (v) => Math.round(v * 10) / 10;
  return h("article", { class: "scenario", "data-cuts": x.cuts.join(" ") },
    h("h3", {}, x.cuts.join(" + ")),
    x.removesNothing ? h("p", { class: "reason" }, x.removesNothing) : h("dl", {},
      h("dt", {}, "Accelerators left"), h("dd", {}, left(x.acceleratorsTotal - x.acceleratorsLost, x.acceleratorsTotal)),
      h("dt", {}, "Compute left"), h("dd", {}, left(round(x.pflopsTotal - x.pflopsLost), round(x.pflopsTotal), "PFLOPS")),
      h("dt", {}, "Workloads done"), h("dd", { class: "completed" }, left(x.completed, uncut.completed)),
      h("dt", {}, "Work done"), h("dd", {}, left(Math.round(x.workDoneExaflop), Math.round(uncut.workDoneExaflop), "EFLOP")),
      h("dt", {}, "Sites lost"), h("dd", {}, x.sitesLost.join(", ") || "none"),
      h("dt", {}, "No more updates"), h("dd", {}, x.softwareWithoutUpdates.join(", ") || "none")),
    x.newlyUnplaceable.length ? h("details", {}, h("summary", {}, `${x.newlyUnplaceable.length} workloads can no longer be placed`),
      h("ul", {}, ...x.newlyUnplaceable.map((l) => h("li", {}, h("strong", {}, l.workload), ": ", l.explanation)))) : null);
}

function stressPanel() {
  const input = h("input", { id: "cuts", type: "text", value: DEFAULT_CUTS, "aria-describedby": "cuts-help", spellcheck: "false" });
  const results = h("div", { id: "stress-results", "aria-live": "polite" });
  async function run() {
    const cuts = input.value.trim().split(/\s+/).filter(Boolean);
    results.replaceChildren(h("p", {}, `Simulating the fleet without ${cuts.join(", ") || "nothing"}…`));
    try {
      const query = cuts.map((c) => `cut=${encodeURIComponent(c)}`).join("&");
      const data = await get(`/v1/assessment?${query}`);
      const stress = data.stress;
      if (!stress) { results.replaceChildren(h("p", {}, "Name at least one cut to run a stress test.")); return; }
      results.replaceChildren(
        h("p", { class: "reason" }, `Policy ${stress.policy}, seed ${stress.seed}. The uncut fleet does ${stress.uncut.completed} of its `
          + `${stress.uncut.workloads} workloads, ${stress.uncut.workDoneExaflop.toFixed(1)} of ${stress.uncut.workRequiredExaflop.toFixed(1)} EFLOP; `
          + "each cut is measured against that."),
        ...stress.scenarios.map((x) => scenario(x, stress.uncut)));
    } catch (error) {
      results.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    }
  }
  const form = h("form", { class: "stress-form", onsubmit: (event) => { event.preventDefault(); run(); } },
    h("label", { for: "cuts" }, "Cuts"), input, h("button", { type: "submit", id: "run-stress" }, "Run"),
    h("p", { id: "cuts-help", class: "reason" }, "KIND=VALUE, separated by spaces, as `sovereign assess --cut`: vendor, designer, "
      + "fabricator, operator-jurisdiction, site or jurisdiction. Each is simulated alone, then all together."));
  return { element: h("section", { class: "stress", "aria-labelledby": "stress-heading" },
    h("h2", { id: "stress-heading" }, "Stress tests"), form, results), run };
}

export async function sovereigntyPage(main) {
  const data = await get("/v1/assessment");
  const detail = h("section", { id: "seal-detail", "aria-live": "polite", "aria-label": "facts behind the level" });
  const stress = stressPanel();
  main.append(h("h1", {}, "Sovereignty"),
    h("p", {}, `Weakest layer: ${data.weakest.layer} at SEAL-${data.weakest.level}. Home: ${data.home}. Levels run from 0 (no sovereignty) to 4 (full); select a cell for its facts.`),
    h("div", { class: "sovereignty" }, h("div", {}, heatmap(data, detail), detail), stress.element));
  stress.run(); // a simulation per cut: the page is shown at once, and the results fill in when they come
  return {};
}
