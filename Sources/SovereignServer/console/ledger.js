// Ledger: its entries with search, and for any entry a verification done here, in the browser, against the
// latest signed checkpoint and the key the auditor pins.

import { get, getText } from "./api.js";
import { h, time } from "./dom.js";
import { verifyEntry } from "./verify.js";

const PAGE = 200;

function summary(entry) {
  const f = entry.fields ?? {};
  return [f.workload, f.site, f.reason].filter(Boolean).join(" · ");
}

export async function ledgerPage(main) {
  const head = await get("/v1/ledger");
  const key = h("input", { id: "verifier-key", type: "text", spellcheck: "false", value: sessionStorage.getItem("sovereign.key") ?? head.verifierKey });
  key.addEventListener("change", () => sessionStorage.setItem("sovereign.key", key.value.trim()));
  const search = h("input", { id: "ledger-search", type: "search", placeholder: "workload, site or kind" });
  const body = h("tbody");
  const result = h("section", { id: "verification", "aria-live": "polite", "aria-label": "verification" });
  let entries = [];
  const show = () => {
    const text = search.value.trim().toLowerCase();
    const shown = entries.filter((e) => !text || JSON.stringify(e.entry).toLowerCase().includes(text));
    body.replaceChildren(...shown.slice().reverse().map((item) => h("tr", { "data-sequence": item.sequence },
      h("td", { class: "number" }, item.sequence), h("td", {}, time(item.entry.time)), h("td", {}, item.entry.kind),
      h("td", {}, summary(item.entry)),
      h("td", {}, h("button", { type: "button", "data-verify": item.sequence, onclick: () => verify(item) }, `Verify ${item.sequence}`)))));
  };
  async function load() {
    const size = (await get("/v1/ledger")).size;
    const start = Math.max(0, size - PAGE);
    entries = (await get(`/v1/ledger/entries?start=${start}&limit=${PAGE}`)).entries;
    show();
  }
  async function verify(item) {
    result.replaceChildren(h("p", {}, `Verifying entry ${item.sequence}…`));
    try {
      const note = await getText("/v1/ledger/checkpoint");
      const size = Number(note.split("\n")[1]);
      const proof = await get(`/v1/ledger/proof/inclusion?index=${item.sequence}&size=${size}`);
      const outcome = await verifyEntry(item, note, key.value.trim(), proof);
      result.replaceChildren(
        h("h2", { id: "verdict", "data-ok": String(outcome.ok), class: outcome.ok ? "ok" : "fail" },
          outcome.ok ? `Entry ${item.sequence} verified` : `Entry ${item.sequence}: verification FAILED`),
        h("ul", { class: "checks" }, ...outcome.checks.map((c) => h("li", { class: c.ok ? "ok" : "fail" },
          c.ok ? "✓ " : "✗ ", c.what, h("br"), h("code", {}, c.detail)))));
    } catch (error) {
      result.replaceChildren(h("h2", { id: "verdict", "data-ok": "false", class: "fail" }, `Entry ${item.sequence}: verification FAILED`),
        h("p", {}, error.message));
    }
  }
  search.addEventListener("input", show);
  main.append(h("h1", {}, "Ledger"),
    h("p", {}, `Log ${head.origin}: ${head.size} entries. Verification runs in this browser with WebCrypto (SHA-256, Ed25519); pin the key you trust.`),
    h("div", { class: "filters" }, h("label", { for: "verifier-key" }, "Verifier key"), key),
    h("div", { class: "filters" }, h("label", { for: "ledger-search" }, "Search"), search),
    result,
    h("table", { class: "ledger" }, h("thead", {}, h("tr", {}, ...["#", "Time", "Kind", "About", ""].map((c) => h("th", { scope: "col" }, c)))), body));
  await load();
  let pending = null;
  return {
    event(name) {
      if (name !== "ledger" || pending) return;
      pending = setTimeout(() => { pending = null; load(); }, 250);
    },
  };
}
