// Sovereignty: the five-layer matrix (the data of `sovereign assess`) as a heatmap, sites by layers, each
// cell a button that shows the facts and reasons behind its level.

import { get } from "./api.js";
import { h } from "./dom.js";

function cell(site, layer, levels, show) {
  const level = layer.level ?? null; // left out of the JSON when the layer could not be assessed
  const name = level === null ? "unknown" : levels[String(level)] ?? `SEAL-${level}`;
  const label = `${site}, ${layer.layer}: ${level === null ? "not assessed" : `SEAL-${level} ${name}`}`;
  return h("td", {}, h("button", { type: "button", class: `seal seal-${level ?? "none"}`, "aria-label": label,
    onclick: () => show(site, layer, name) }, level === null ? "–" : `${level}`));
}

export async function sovereigntyPage(main) {
  const data = await get("/v1/assessment");
  const layers = data.fleet.map((l) => l.layer);
  const detail = h("section", { id: "seal-detail", "aria-live": "polite", "aria-label": "facts behind the level" });
  const show = (site, layer, name) => detail.replaceChildren(
    h("h2", {}, `${site} · ${layer.layer}: ${layer.level == null ? "not assessed" : `SEAL-${layer.level} (${name})`}`),
    h("h3", {}, "Why"), h("ul", {}, ...layer.reasons.map((r) => h("li", {}, r))),
    h("h3", {}, "Facts"), h("ul", {}, ...layer.facts.map((f) => h("li", {}, f))));
  const row = (name, jurisdiction, cells) => h("tr", {}, h("th", { scope: "row" }, name, jurisdiction ? ` (${jurisdiction})` : ""),
    ...cells.map((l) => cell(name, l, data.levels, show)));
  main.append(h("h1", {}, "Sovereignty"),
    h("p", {}, `Weakest layer: ${data.weakest.layer} at SEAL-${data.weakest.level}. Home: ${data.home}. Levels run from 0 (no sovereignty) to 4 (full); select a cell for its facts.`),
    h("table", { class: "heatmap" },
      h("caption", { class: "visually-hidden" }, "SEAL level by site and layer"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Site"), ...layers.map((l) => h("th", { scope: "col" }, l)))),
      h("tbody", {}, ...data.sites.map((s) => row(s.site, s.jurisdiction, s.layers)), row("fleet", "", data.fleet))),
    detail);
  return {};
}
