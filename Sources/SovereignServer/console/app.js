// The console's shell: sign-in, the pages by URL (#/fleet, #/workloads, #/workloads/NAME, #/plan,
// #/federation, #/sovereignty, #/ledger), and the live events that each page reacts to without a reload.

import { get, token } from "./api.js";
import { LiveEvents } from "./events.js";
import { fleetPage } from "./fleet.js";
import { workloadsPage, workloadPage } from "./workloads.js";
import { ledgerPage } from "./ledger.js";
import { planPage } from "./plan.js";
import { federationPage } from "./federation.js";
import { sovereigntyPage } from "./sovereignty.js";

const main = document.getElementById("main");
const session = { role: null, page: null, events: null };

const routes = [
  [/^#\/fleet$/, () => fleetPage],
  [/^#\/workloads$/, () => workloadsPage],
  [/^#\/workloads\/([a-z0-9.-]+)$/, () => workloadPage],
  [/^#\/plan$/, () => planPage],
  [/^#\/ledger$/, () => ledgerPage],
  [/^#\/federation$/, () => federationPage],
  [/^#\/sovereignty$/, () => sovereigntyPage],
];

async function render() {
  const hash = location.hash || "#/fleet";
  const match = routes.map(([pattern, page]) => [hash.match(pattern), page]).find(([m]) => m);
  if (!match) { location.hash = "#/fleet"; return; }
  const [found, page] = match;
  const name = hash.split("/")[1];
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", link.dataset.page === name);
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
  }
  session.page?.leave?.();
  main.replaceChildren();
  session.page = await page()(main, { role: session.role, parameter: found[1] });
  main.dataset.ready = hash;
  performance.mark("console:rendered");
  window.dispatchEvent(new CustomEvent("console:rendered", { detail: hash }));
}

function onEvent(name, data, receivedAt) {
  window.dispatchEvent(new CustomEvent("console:event", { detail: { name, data, receivedAt } }));
  session.page?.event?.(name, data);
}

function setLive(status) {
  const live = document.getElementById("live");
  live.textContent = status;
  live.dataset.status = status === "live" ? "live" : "down";
}

async function signIn() {
  const who = await get("/v1/whoami");
  session.role = who.role;
  document.body.dataset.role = who.role;
  document.getElementById("whoami").textContent = `${who.role} (${who.identity})`;
  document.getElementById("login").hidden = true;
  document.getElementById("logout").hidden = false;
  main.hidden = false;
  session.events = new LiveEvents(onEvent, setLive);
  session.events.start();
  await render();
}

function showLogin(message = "") {
  session.events?.stop();
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("login-error").textContent = message;
  document.getElementById("whoami").textContent = "";
  main.hidden = true;
  document.getElementById("token").focus();
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  token.set(document.getElementById("token").value.trim());
  try {
    await signIn();
  } catch (error) {
    token.clear();
    showLogin(`Not signed in: ${error.message}`);
  }
});

document.getElementById("logout").addEventListener("click", () => {
  token.clear();
  showLogin();
});

window.addEventListener("hashchange", () => { if (session.role) render(); });
// A page left (reload, another address) closes its stream at once: a browser holds few connections to one
// server, and a stream it kept for a page in its history would keep the next page waiting.
window.addEventListener("pagehide", () => session.events?.stop());

if (token.get()) signIn().catch((error) => showLogin(`Not signed in: ${error.message}`));
else showLogin();
