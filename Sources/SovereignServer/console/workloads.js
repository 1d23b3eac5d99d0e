// Workloads: the table with its filter, a workload's own page (state live, history, attempts, the planner's
// explanation, its log), and for operators the actions and the submit form.

import { APIError, get, getText, request } from "./api.js";
import { h, stateBadge, time } from "./dom.js";

const STATES = ["pending", "placed", "running", "pausing", "paused", "resuming", "completed", "failed", "cancelled"];

function debounced(load) {
  let pending = null;
  return () => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(); }, 50);
  };
}

function duration(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// Run time so far over the planner's estimate of what the work needs at its placement, as a bar and in words.
function progress(w) {
  if (w.state === "completed") return `done in ${duration(w.runSeconds)}${w.estimatedSeconds ? ` (~${duration(w.estimatedSeconds)} estimated)` : ""}`;
  if (w.progress === undefined || w.progress === null) return `${duration(w.runSeconds)} run`;
  const percent = Math.round(100 * w.progress);
  const words = w.estimatedSeconds ? `${percent}% of ~${duration(w.estimatedSeconds)}` : `${percent}%`;
  return h("span", { class: "progress" },
    h("progress", { max: 100, value: percent, "aria-label": `${w.name} progress` }), " ", words);
}

function deadline(w) {
  if (!w.deadline) return "none";
  const late = !["completed", "cancelled", "failed"].includes(w.state) && Date.parse(w.deadline) < Date.now();
  return h("span", { class: late ? "late" : "" }, time(w.deadline), late ? " (missed)" : "");
}

function row(w) {
  return h("tr", { "data-workload": w.name },
    h("td", {}, h("a", { href: `#/workloads/${w.name}` }, w.name)),
    h("td", {}, stateBadge(w.state), w.held ? " held" : ""),
    h("td", {}, w.site ?? ""),
    h("td", { class: "number" }, w.accelerators ?? ""),
    h("td", { class: "progress-cell" }, progress(w)),
    h("td", { class: "deadline" }, deadline(w)),
    h("td", { class: "number priority" }, w.priority ?? ""),
    h("td", { class: "number" }, w.failures),
    h("td", {}, time(w.updatedAt)));
}

function submitForm(onSubmitted) {
  const text = h("textarea", { id: "submit-yaml", rows: 14, spellcheck: "false", "aria-describedby": "submit-result" });
  const result = h("div", { id: "submit-result", role: "status" });
  const form = h("form", { class: "submit", "aria-labelledby": "submit-heading" },
    h("h2", { id: "submit-heading" }, "Submit a workload"),
    h("label", { for: "submit-yaml" }, "Workload document (YAML or JSON)"), text,
    h("button", { type: "submit", id: "submit-button" }, "Submit"), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren("Submitting…");
    try {
      const answer = await request("/v1/workloads", { method: "POST", body: text.value, type: "application/yaml" });
      result.replaceChildren("Submitted: ", ...answer.workloads.map((w) => h("a", { href: `#/workloads/${w.name}` }, w.name)));
      onSubmitted();
    } catch (error) {
      result.replaceChildren(h("p", { class: "error" }, error.message), diagnostics(text.value, error));
    }
  });
  return form;
}

// The document with each diagnostic under the line it is about, as `sovereign validate` points at them.
function diagnostics(source, error) {
  if (!(error instanceof APIError) || error.diagnostics.length === 0) return "";
  const lines = source.split("\n");
  const listing = h("ol", { class: "listing", "aria-label": "diagnostics by line" });
  lines.forEach((line, index) => {
    const found = error.diagnostics.filter((d) => d.line === index + 1);
    listing.append(h("li", { class: found.length ? "flagged" : "" }, h("code", {}, line || " "),
      ...found.map((d) => h("p", { class: "diagnostic", "data-line": d.line }, `line ${d.line}, column ${d.column}: ${d.message}`))));
  });
  const elsewhere = error.diagnostics.filter((d) => d.line < 1 || d.line > lines.length);
  return h("div", {}, listing, ...elsewhere.map((d) => h("p", { class: "diagnostic" }, d.message)));
}

// What the filters leave: a state, a site, and text found in the name, site, pool or detail.
function matches(w, { text, state, site }) {
  const haystack = [w.name, w.site ?? "", w.pool ?? "", w.detail ?? ""].join(" ").toLowerCase();
  return (!state || w.state === state) && (!site || w.site === site) && (!text || haystack.includes(text));
}

export async function workloadsPage(main, { role }) {
  const search = h("input", { id: "workload-search", type: "search", placeholder: "name, site, pool or detail" });
  const state = h("select", { id: "workload-state" }, h("option", { value: "" }, "every state"),
    ...STATES.map((s) => h("option", { value: s }, s)));
  const site = h("select", { id: "workload-site" }, h("option", { value: "" }, "every site"));
  const count = h("p", { id: "workload-count", role: "status" });
  const body = h("tbody");
  let all = [];
  const show = () => {
    const filter = { text: search.value.trim().toLowerCase(), state: state.value, site: site.value };
    const shown = all.filter((w) => matches(w, filter));
    body.replaceChildren(...shown.map(row));
    count.textContent = `${shown.length} of ${all.length} workloads`;
  };
  const sites = (names) => {
    const chosen = site.value;
    site.replaceChildren(h("option", { value: "" }, "every site"), ...names.map((n) => h("option", { value: n }, n)));
    site.value = names.includes(chosen) ? chosen : "";
  };
  search.addEventListener("input", show);
  state.addEventListener("change", show);
  site.addEventListener("change", show);
  const load = async () => {
    const [list, fleet] = await Promise.all([get("/v1/workloads"), get("/v1/sites")]);
    all = list.workloads;
    sites(fleet.sites.map((s) => s.name));
    show();
  };
  const columns = ["Name", "State", "Site", "Accelerators", "Progress", "Deadline", "Priority", "Failures", "Updated"];
  main.append(h("h1", {}, "Workloads"),
    h("div", { class: "filters", role: "search" }, h("label", { for: "workload-search" }, "Search"), search,
      h("label", { for: "workload-state" }, "State"), state, h("label", { for: "workload-site" }, "Site"), site),
    count,
    h("table", { class: "workloads" },
      h("caption", { class: "visually-hidden" }, "Workloads, in submission order"),
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c)))),
      body));
  if (role === "operator") main.append(submitForm(load));
  await load();
  const refresh = debounced(load);
  return { event(name) { if (name === "workload") refresh(); } };
}

function actions(name, workload, onDone) {
  const box = h("div", { class: "actions", role: "group", "aria-label": "actions" });
  const act = (verb, label) => h("button", { type: "button", "data-action": verb, onclick: async () => {
    try { await request(`/v1/workloads/${name}/${verb}`, { method: "POST" }); onDone(); }
    catch (error) { box.append(h("p", { class: "error", role: "alert" }, error.message)); }
  } }, label);
  if (!["completed", "failed", "cancelled"].includes(workload.state)) {
    box.append(workload.held ? act("resume", "Resume") : act("pause", "Pause"), act("cancel", "Cancel"));
  }
  return box;
}

export async function workloadPage(main, { role, parameter: name }) {
  const heading = h("h1", {}, name);
  const summary = h("div", { class: "summary" });
  const controls = h("div");
  const history = h("ol", { id: "history", class: "timeline", "aria-label": "history" });
  const attempts = h("tbody");
  const log = h("pre", { id: "log", class: "log", tabindex: 0 });
  main.append(heading, summary, controls,
    h("h2", {}, "History"), history,
    h("h2", {}, "Attempts"),
    h("table", {}, h("thead", {}, h("tr", {}, ...["#", "Site", "Pool", "Accelerators", "Started", "Ended", "Outcome", "Exit"].map((c) => h("th", { scope: "col" }, c)))), attempts),
    h("h2", {}, "Log of the latest attempt"), log);
  async function load() {
    const [detail, plan] = await Promise.all([get(`/v1/workloads/${name}`), get("/v1/plan").catch(() => null)]);
    const w = detail.workload;
    const planned = plan?.workloads?.find((p) => p.name === name);
    summary.replaceChildren(h("dl", {},
      h("dt", {}, "State"), h("dd", { id: "state", "data-state": w.state }, stateBadge(w.state), w.held ? " (held)" : ""),
      h("dt", {}, "Site"), h("dd", {}, w.site ? `${w.site} / ${w.pool} × ${w.accelerators}` : "not placed"),
      h("dt", {}, "Checkpoint at"), h("dd", {}, w.checkpointSite ?? "none"),
      h("dt", {}, "Explanation"), h("dd", { id: "explanation" }, planned?.explanation || w.detail || "")));
    controls.replaceChildren(role === "operator" ? actions(name, w, load) : "");
    history.replaceChildren(...detail.history.map((t) => h("li", { "data-to": t.to },
      h("time", {}, time(t.at)), " ", t.from ? `${t.from} → ` : "", stateBadge(t.to), " ", h("span", { class: "reason" }, t.reason))));
    attempts.replaceChildren(...detail.attempts.map((a) => h("tr", {},
      h("td", {}, a.number), h("td", {}, a.site), h("td", {}, a.pool), h("td", { class: "number" }, a.accelerators),
      h("td", {}, time(a.startedAt)), h("td", {}, time(a.endedAt)), h("td", {}, a.outcome ?? "running"),
      h("td", {}, a.exitStatus ?? (a.exitSignal ? `signal ${a.exitSignal}` : "")))));
    if (detail.attempts.length) {
      log.textContent = await getText(`/v1/workloads/${name}/log`).catch((e) => e.message);
      log.scrollTop = log.scrollHeight; // the end of the log is what changes
    }
  }
  await load();
  const refresh = debounced(load);
  return {
    event(event, data) {
      if (event !== "workload" || data.workload !== name) return;
      // The event is the new state: shown at once, however short-lived, before the rest is read again.
      const state = document.getElementById("state");
      if (state) { state.dataset.state = data.to; state.replaceChildren(stateBadge(data.to)); }
      refresh();
    },
  };
}
