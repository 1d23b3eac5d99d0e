// Federation: each federated run as its ledger tells it — participants, every round and attempt, who
// dropped and why, the bytes that moved, and ε and δ spent under differential privacy.

import { get } from "./api.js";
import { h, time } from "./dom.js";

const PAGE = 1000;
const MOST = 20000;

// The federation.* entries among the last MOST entries of the ledger, oldest first.
async function federationEntries() {
  const size = (await get("/v1/ledger")).size;
  const found = [];
  for (let start = Math.max(0, size - MOST); start < size; start += PAGE) {
    const { entries } = await get(`/v1/ledger/entries?start=${start}&limit=${PAGE}`);
    found.push(...entries.map((e) => e.entry).filter((e) => e.kind.startsWith("federation.")));
  }
  return found;
}

function runs(entries) {
  const byWorkload = new Map();
  const run = (name) => {
    if (!byWorkload.has(name)) byWorkload.set(name, { name, started: null, completed: null, refused: null, rounds: new Map() });
    return byWorkload.get(name);
  };
  const round = (r, f) => {
    const key = `${f.round}.${f.attempt ?? 1}`;
    if (!r.rounds.has(key)) r.rounds.set(key, { round: f.round, attempt: f.attempt ?? 1, bytes: 0, outcome: "open" });
    return r.rounds.get(key);
  };
  for (const entry of entries) {
    const f = entry.fields;
    const r = run(f.workload);
    if (entry.kind === "federation.started") r.started = { ...f, at: entry.time };
    else if (entry.kind === "federation.completed") r.completed = { ...f, at: entry.time };
    else if (entry.kind === "federation.refused") r.refused = f.reason;
    else if (entry.kind === "federation.update" || entry.kind === "federation.model-sent") round(r, f).bytes += f.bytes ?? 0;
    else if (entry.kind === "federation.round") Object.assign(round(r, f), { outcome: "closed", sites: f.sites, dropped: f.dropped, epsilon: f.epsilon, delta: f.delta });
    else if (entry.kind === "federation.round-missed") Object.assign(round(r, f), { outcome: "missed", reason: f.reason });
  }
  return [...byWorkload.values()];
}

const bytes = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`);

function runSection(r) {
  const s = r.started;
  return h("section", { class: "run", "aria-label": `federated run ${r.name}` },
    h("h2", {}, h("a", { href: `#/workloads/${r.name}` }, r.name), r.completed ? " — completed" : r.refused ? " — refused" : ""),
    r.refused ? h("p", { class: "fail" }, r.refused) : null,
    s ? h("p", {}, `Started ${time(s.at)}: ${s.rounds} rounds of ${s.strategy}${s.secureAggregation ? " with secure aggregation" : ""}, sites ${s.sites.join(", ")}.`) : null,
    h("table", {}, h("thead", {}, h("tr", {}, ...["Round", "Attempt", "Outcome", "Participants", "Dropped", "Bytes moved", "ε", "δ"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ...[...r.rounds.values()].map((x) => h("tr", {},
        h("td", { class: "number" }, x.round), h("td", { class: "number" }, x.attempt),
        h("td", { class: x.outcome === "missed" ? "fail" : "" }, x.outcome === "missed" ? `missed: ${x.reason}` : x.outcome),
        h("td", {}, (x.sites ?? []).join(", ")), h("td", {}, (x.dropped ?? []).join(", ")),
        h("td", { class: "number" }, bytes(x.bytes)), h("td", { class: "number" }, x.epsilon ?? ""), h("td", { class: "number" }, x.delta ?? ""))))));
}

export async function federationPage(main) {
  const box = h("div");
  main.append(h("h1", {}, "Federation"), box);
  async function load() {
    const found = runs(await federationEntries());
    box.replaceChildren(...(found.length ? found.map(runSection) : [h("p", {}, "No federated run in the ledger.")]));
  }
  await load();
  let pending = null;
  return {
    event(name, data) {
      if (name !== "ledger" || !data.entry?.kind?.startsWith("federation.") || pending) return;
      pending = setTimeout(() => { pending = null; load(); }, 250);
    },
  };
}
