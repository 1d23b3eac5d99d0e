"""The console in a real headless Chromium (Debian's chromium and chromium-driver, selenium from PyPI) against a
live `sovereign serve` on the bundled example: sign in, five sites, submit the digits workload, replay the power
drop and watch the workload page follow it without a reload, verify a ledger entry in the page (and see the
verification fail when a proxy tampers with the proof), and a reader token offered no action.

Writes a screenshot of every page and the measurements (bytes per page, first render, event-to-page latency)
to .build/console-screenshots/."""

from __future__ import annotations

import calendar
import http.client
import http.server
import json
import re
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPOSITORY, Processes
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from server import OPERATOR_TOKEN, Server, binary

READER_TOKEN = "rd-0123456789abcdef0123"
# kigali-1's work runs through a site agent, whose heartbeat the fleet page shows: the test reports as it.
AGENT_SITE = "kigali-1"
AGENT_TOKEN = "site-kigali-1-0123456789abcdef"
SHOTS = REPOSITORY / ".build" / "console-screenshots"
PAGES = ["fleet", "workloads", "workloads/digits-dar", "plan", "federation", "sovereignty", "ledger"]


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        pytest.fail("expected chromium and chromedriver (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--disable-extensions"]:  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    yield driver
    driver.quit()


class TamperingProxy(http.server.ThreadingHTTPServer):
    """Forwards every request to the server, and flips one byte of every inclusion proof on the way back."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser that drops its event stream breaks the copy: that is the end of the stream, not an error

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: TamperingProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.forward()

    def do_POST(self) -> None:
        self.forward()

    def forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Connection", "close")
        if response.getheader("Content-Type", "").startswith("text/event-stream"):
            self.end_headers()
            while chunk := response.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
            return
        data = response.read()
        if self.path.startswith("/v1/ledger/proof/inclusion") and response.status == 200:
            data = tamper(data)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def tamper(data: bytes) -> bytes:
    """The proof with one hex digit of its first hash changed (or of its root, when the path is empty)."""
    proof = json.loads(data)
    key, index = ("proof", 0) if proof["proof"] else ("root", None)
    text = proof[key][0] if index is not None else proof[key]
    changed = ("1" if text[0] != "1" else "2") + text[1:]
    if index is not None:
        proof[key][0] = changed
    else:
        proof[key] = changed
    return json.dumps(proof).encode()


def wait(driver: webdriver.Chrome, what: str, condition: Any, seconds: float = 120) -> Any:
    # The page re-renders as events arrive: an element found a moment ago may be gone, and is looked up again.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    waiter = WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=ignored)
    return waiter.until(lambda d: condition(d), message=what)


def sign_in(driver: webdriver.Chrome, url: str, token: str) -> None:
    driver.get(url + "/console/")
    driver.execute_script("sessionStorage.clear()")  # signed out, whoever signed in on this origin before
    driver.refresh()
    wait(driver, "the sign-in form", lambda d: d.find_element(By.ID, "token").is_displayed())
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait(driver, "a signed-in page", lambda d: d.find_element(By.ID, "main").get_attribute("data-ready"))


def open_page(driver: webdriver.Chrome, page: str) -> None:
    driver.execute_script("location.hash = arguments[0]", f"#/{page}")
    wait(driver, f"page {page}", lambda d: d.find_element(By.ID, "main").get_attribute("data-ready") == f"#/{page}")


def measure_load(driver: webdriver.Chrome, url: str, page: str) -> tuple[int, float]:
    """A fresh load of the page: bytes transferred (the page, its files and its API reads; not the event stream)
    and the time from navigation to the page's first render, in ms."""
    driver.get(f"{url}/console/?measure={page.replace('/', '-')}#/{page}")
    wait(driver, f"page {page}", lambda d: d.find_element(By.ID, "main").get_attribute("data-ready") == f"#/{page}")
    time.sleep(0.3)  # let the page's last reads finish, so their bytes are counted (not a timing assertion)
    transferred = driver.execute_script("""
        const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
        return entries.filter((e) => !e.name.includes("/v1/events")).reduce((sum, e) => sum + e.transferSize, 0);""")
    rendered = driver.execute_script('return performance.getEntriesByName("console:rendered")[0].startTime')
    return int(transferred), float(rendered)


def observe_states(driver: webdriver.Chrome) -> None:
    driver.execute_script("""
        window.noReload = true;
        window.seenStates = [];
        const record = () => {
          const state = document.getElementById("state")?.dataset.state;
          const last = window.seenStates[window.seenStates.length - 1];
          if (state && (!last || last.state !== state)) window.seenStates.push({ state, at: Date.now() });
        };
        record();
        new MutationObserver(record).observe(document.getElementById("main"), { subtree: true, childList: true });""")


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    remaining = iter(seen)
    return all(state in remaining for state in wanted)


def ledger_time(server: Server, kind: str) -> float:
    entries = server.json("/v1/ledger/entries?limit=1000")["entries"]
    stamp = next(e["entry"]["time"] for e in entries if e["entry"]["kind"] == kind)
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + int(stamp[20:23]) / 1000


def verify_first_entry(driver: webdriver.Chrome) -> tuple[bool, str]:
    open_page(driver, "ledger")
    wait(driver, "a verify button", lambda d: d.find_element(By.CSS_SELECTOR, "[data-verify='0']").click() or True)
    verdict = wait(driver, "a verdict", lambda d: d.find_element(By.ID, "verdict"))
    return verdict.get_attribute("data-ok") == "true", str(driver.find_element(By.ID, "verification").text)


def report_as_agent(server: Server) -> None:
    """One poll of kigali-1's site agent (nothing running there): it renews the site's heartbeat."""
    body = json.dumps({"agent": "test", "seenThrough": 0, "attempts": [], "checkpoints": []}).encode()
    request = urllib.request.Request(server.url + f"/v1/sites/{AGENT_SITE}/agent", data=body, method="POST")
    request.add_header("Authorization", f"Bearer {AGENT_TOKEN}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def forecast_a_dip(server: Server) -> None:
    """nairobi-1 reports 120 kW now and a forecast of 40 kW from 6 h to 10 h ahead (its chart and its plan band
    show the dip)."""
    at = lambda hours: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + hours * 3600))  # noqa: E731
    forecast = [{"at": at(6), "available": "40 kW"}, {"at": at(10), "available": "120 kW"}]
    body = json.dumps({"available": "120 kW", "forecast": forecast, "ambient": "29 C"}).encode()
    status, answer = server.request("PUT", "/v1/sites/nairobi-1/power", body)
    assert status == 200, answer


def card(driver: webdriver.Chrome, site: str, selector: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"article[data-site='{site}'] {selector}")


def check_fleet_cards(driver: webdriver.Chrome) -> None:
    """Every card draws its power chart (with its text alternative) and names its states, cooling, accelerators
    by model and agent; kigali-1's agent reported a moment ago."""
    for site in ["nairobi-1", "mombasa-1", "kigali-1", "kampala-1", "dar-1"]:
        label = card(driver, site, "svg.power-chart").get_attribute("aria-label")
        assert "available now" in label and "forecast" in label, label
        assert card(driver, site, "path.ahead").get_attribute("d").startswith("M"), site  # the forecast is drawn
        assert card(driver, site, "[data-condition='power']").text.split()[-1] in ("ok", "constrained", "shedding")
        assert card(driver, site, "[data-condition='thermal']").text.startswith("thermal ")
        cooling = card(driver, site, ".cooling").text
        assert "headroom of" in cooling and "°C outside" in cooling, cooling
        assert " of " in card(driver, site, ".accelerators").text, site
    label = card(driver, "nairobi-1", "svg.power-chart").get_attribute("aria-label")
    assert "120.0 kW available now" in label and "lowest forecast in the next 24 h 40.0 kW" in label, label
    assert "29 °C outside" in card(driver, "nairobi-1", ".cooling").text
    heartbeat = "reporting, last report"
    wait(driver, "kigali-1's heartbeat", lambda d: heartbeat in card(d, AGENT_SITE, ".heartbeat").text, 30)
    assert "run by the server" in card(driver, "dar-1", ".heartbeat").text


def submit_second_copy(server: Server) -> None:
    """digits-dar again, longer, with a deadline and a lower priority: it runs at dar-1 while the plan and the table
    are looked at."""
    document = (REPOSITORY / "Examples" / "workloads" / "digits-dar.yaml").read_text()
    copy = (
        document.replace("{name: digits-dar}", "{name: digits-dar-2}")
        .replace("priority: 10", "priority: 5\n  deadline: 2030-01-01T00:00:00Z")
        .replace('--epochs, "40"', '--epochs, "200"')  # still running when the table is read
    )
    assert copy.count("digits-dar-2") == 1 and "2030" in copy and '"200"' in copy, copy
    status, body = server.request("POST", "/v1/workloads", copy.encode())
    assert status == 201, body


def check_plan(driver: webdriver.Chrome) -> None:
    """The Gantt draws every site's power budget behind its band, and digits-dar-2 in dar-1's."""
    open_page(driver, "plan")
    bar = "svg.gantt [data-workload='digits-dar-2'] rect.bar-running"
    wait(driver, "digits-dar-2 running on the Gantt", lambda d: d.find_element(By.CSS_SELECTOR, bar))
    budgets = driver.find_elements(By.CSS_SELECTOR, "svg.gantt g.budget path.budget-area")
    assert len(budgets) == 5, len(budgets)
    for path in budgets:
        assert path.get_attribute("d").startswith("M") and " L" in path.get_attribute("d")
    assert "power budget" in driver.find_element(By.CSS_SELECTOR, "svg.gantt").get_attribute("aria-label")
    # nairobi-1's budget dips where its forecast does: its area has three levels (now, the dip, after).
    dip = driver.find_element(By.CSS_SELECTOR, "svg.gantt g.budget[data-site='nairobi-1'] path.budget-area")
    levels = {point.split(",")[1] for point in dip.get_attribute("d").replace("Z", "").split()[1:-1]}
    assert len(levels) == 2, dip.get_attribute("d")  # 120 kW now and after, 40 kW between
    band = driver.find_element(By.CSS_SELECTOR, "svg.gantt g.budget[data-site='dar-1']")
    assert band.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "[data-workload='digits-dar-2']")


def check_workloads_table(driver: webdriver.Chrome) -> None:
    """The rows have their progress, deadline and priority; search and the filters narrow the table."""
    open_page(driver, "workloads")
    row = "tr[data-workload='{}'] {}"
    wait(driver, "digits-dar-2's row", lambda d: d.find_element(By.CSS_SELECTOR, row.format("digits-dar-2", "td")))
    assert driver.find_element(By.CSS_SELECTOR, row.format("digits-dar", ".priority")).text == "10"
    assert driver.find_element(By.CSS_SELECTOR, row.format("digits-dar", ".deadline")).text == "none"
    assert driver.find_element(By.CSS_SELECTOR, row.format("digits-dar", ".progress-cell")).text.startswith("done")
    assert driver.find_element(By.CSS_SELECTOR, row.format("digits-dar-2", ".priority")).text == "5"
    assert driver.find_element(By.CSS_SELECTOR, row.format("digits-dar-2", ".deadline")).text == "2030-01-01 00:00:00Z"
    progress = row.format("digits-dar-2", ".progress-cell")
    wait(driver, "digits-dar-2's progress", lambda d: "% of ~" in d.find_element(By.CSS_SELECTOR, progress).text, 10)
    assert driver.find_element(By.CSS_SELECTOR, row.format("digits-dar-2", "progress")).get_attribute("max") == "100"
    shown = 'return [...document.querySelectorAll("table.workloads tbody tr")].map((r) => r.dataset.workload)'
    search = driver.find_element(By.ID, "workload-search")
    search.send_keys("no-such-workload")
    wait(driver, "an empty table", lambda d: d.execute_script(shown) == [], 10)
    assert driver.find_element(By.ID, "workload-count").text == "0 of 2 workloads"
    search.clear()
    search.send_keys("dar-2")
    wait(driver, "digits-dar-2 alone", lambda d: d.execute_script(shown) == ["digits-dar-2"], 10)
    search.clear()
    Select(driver.find_element(By.ID, "workload-state")).select_by_value("completed")
    wait(driver, "the completed one", lambda d: d.execute_script(shown) == ["digits-dar"], 10)
    Select(driver.find_element(By.ID, "workload-state")).select_by_value("")
    Select(driver.find_element(By.ID, "workload-site")).select_by_value("nairobi-1")
    wait(driver, "no workload at nairobi-1", lambda d: d.execute_script(shown) == [], 10)
    Select(driver.find_element(By.ID, "workload-site")).select_by_value("dar-1")
    wait(driver, "both at dar-1", lambda d: d.execute_script(shown) == ["digits-dar", "digits-dar-2"], 10)
    driver.save_screenshot(str(SHOTS / "workloads.png"))
    Select(driver.find_element(By.ID, "workload-site")).select_by_value("")


def check_stress_tests(driver: webdriver.Chrome) -> None:
    """Beside the heatmap: the stress tests of `sovereign assess --cut vendor=NVIDIA --cut operator-jurisdiction=US`,
    each cut alone and both together."""
    scenarios = "#stress-results article.scenario"
    wait(driver, "three stress scenarios", lambda d: len(d.find_elements(By.CSS_SELECTOR, scenarios)) == 3, 300)
    cuts = [e.get_attribute("data-cuts") for e in driver.find_elements(By.CSS_SELECTOR, scenarios)]
    assert cuts == ["vendor=NVIDIA", "operator-jurisdiction=US", "vendor=NVIDIA operator-jurisdiction=US"], cuts
    completed = driver.find_element(By.CSS_SELECTOR, f"{scenarios} .completed").text
    assert re.fullmatch(r"\d+ of \d+ \(\d+%\)", completed), completed


def test_the_console_follows_a_power_drop_and_verifies_the_ledger(
    tmp_path: Path, processes: Processes, browser: webdriver.Chrome
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{OPERATOR_TOKEN} operator\n{READER_TOKEN} reader\n{AGENT_TOKEN} site {AGENT_SITE}\n")
    server = Server(processes, tmp_path, ["Examples/east-africa"], tokens, "--site-agents", AGENT_SITE)
    driver = browser

    report_as_agent(server)
    forecast_a_dip(server)
    sign_in(driver, server.url, OPERATOR_TOKEN)
    wait(driver, "five site cards", lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.site")) == 5)
    check_fleet_cards(driver)
    driver.set_window_size(1280, 1300)
    driver.save_screenshot(str(SHOTS / "fleet.png"))
    driver.set_window_size(1280, 1000)

    # A document with an error: the diagnostic is shown at its line.
    open_page(driver, "workloads")
    document = (REPOSITORY / "Examples" / "workloads" / "digits-dar.yaml").read_text()
    broken = document.replace("priority: 10", "priority: lots")
    line = broken.splitlines().index("  priority: lots") + 1
    driver.find_element(By.ID, "submit-yaml").send_keys(broken)
    driver.find_element(By.ID, "submit-button").click()
    flagged = wait(driver, "a diagnostic", lambda d: d.find_element(By.CSS_SELECTOR, ".diagnostic"))
    assert flagged.get_attribute("data-line") == str(line), flagged.text
    driver.save_screenshot(str(SHOTS / "submit-diagnostics.png"))

    field = driver.find_element(By.ID, "submit-yaml")
    field.clear()
    field.send_keys(document)
    driver.find_element(By.ID, "submit-button").click()
    wait(driver, "the submission", lambda d: "Submitted" in d.find_element(By.ID, "submit-result").text)
    open_page(driver, "workloads/digits-dar")
    observe_states(driver)
    wait(driver, "running", lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "running")

    replay = processes.start(
        [binary(), "power", "replay", "dar-1", "Examples/workloads/dar-1-outage.csv", "--to", server.url,
         "--interval", "5 s"], env={"SOVEREIGN_TOKEN": OPERATOR_TOKEN}, log=tmp_path / "replay.log")  # fmt: skip
    wait(driver, "paused", lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "paused")
    driver.save_screenshot(str(SHOTS / "workload-paused.png"))
    # The fleet while dar-1 has no power: its card stands out. Then back to the workload, which was not reloaded.
    open_page(driver, "fleet")
    short = "article.shortfall[data-site='dar-1']"
    driver.set_window_size(1280, 1300)  # every card in the picture
    wait(driver, "dar-1 short of power", lambda d: d.find_element(By.CSS_SELECTOR, short))
    # The drop is in dar-1's history: its chart draws what was reported, down to the drop.
    wait(driver, "dar-1's reported power", lambda d: card(d, "dar-1", "path.past").get_attribute("d").startswith("M"))
    assert "lowest reported in the last 24 h" in card(driver, "dar-1", "svg.power-chart").get_attribute("aria-label")
    driver.save_screenshot(str(SHOTS / "fleet-shortfall.png"))
    driver.set_window_size(1280, 1000)
    open_page(driver, "workloads/digits-dar")
    wait(driver, "completed", lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "completed", 300)
    assert replay.wait() == 0, (tmp_path / "replay.log").read_text()
    assert driver.execute_script("return window.noReload") is True, "the page reloaded"
    seen = driver.execute_script("return window.seenStates")
    states = [s["state"] for s in seen]
    assert is_subsequence(["running", "pausing", "paused", "running", "completed"], states), states
    # The timeline is read again after each event: it shows every transition once the last one is read.
    timeline = ["running", "pausing", "paused", "resuming", "running", "completed"]
    history_script = 'return [...document.querySelectorAll("#history li")].map((li) => li.dataset.to)'
    wait(driver, f"the history {timeline}", lambda d: is_subsequence(timeline, d.execute_script(history_script)), 10)
    driver.save_screenshot(str(SHOTS / "workload.png"))
    recorded = [("pausing", "workload.pausing"), ("paused", "workload.paused"), ("completed", "workload.completed")]
    latencies = {
        state: next(s["at"] for s in seen if s["state"] == state) / 1000 - ledger_time(server, kind)
        for state, kind in recorded
    }

    ok, text = verify_first_entry(driver)
    assert ok, text
    driver.save_screenshot(str(SHOTS / "ledger-verified.png"))

    submit_second_copy(server)
    check_plan(driver)
    driver.save_screenshot(str(SHOTS / "plan.png"))
    check_workloads_table(driver)
    for page in ["federation", "sovereignty"]:
        open_page(driver, page)
        if page == "sovereignty":  # a cell of the heatmap shows the facts behind its level
            driver.find_element(By.CSS_SELECTOR, "button.seal").click()
            wait(driver, "the facts of a cell", lambda d: "Facts" in d.find_element(By.ID, "seal-detail").text)
            check_stress_tests(driver)
        driver.save_screenshot(str(SHOTS / f"{page}.png"))
    measurements = {page: measure_load(driver, server.url, page) for page in PAGES}

    # The same page through a proxy that changes one hash of the proof: the browser refuses it.
    proxy = TamperingProxy(server.url)
    try:
        sign_in(driver, proxy.url, OPERATOR_TOKEN)
        ok, text = verify_first_entry(driver)
        assert not ok, text
        assert "inclusion proof" in text and "✗" in text, text
        driver.save_screenshot(str(SHOTS / "ledger-tampered.png"))
    finally:
        proxy.shutdown()

    # A reader is offered no action: no pause, resume, cancel, no submit form.
    sign_in(driver, server.url, READER_TOKEN)
    for page in ["workloads", "workloads/digits-dar"]:
        open_page(driver, page)
        assert driver.find_elements(By.CSS_SELECTOR, "[data-action], #submit-yaml, #submit-button") == [], page
    driver.find_element(By.ID, "logout").click()
    driver.save_screenshot(str(SHOTS / "sign-in.png"))

    report = {
        "bytesPerPage": {page: bytes_ for page, (bytes_, _) in measurements.items()},
        "firstRenderMs": {page: round(ms, 1) for page, (_, ms) in measurements.items()},
        "eventToPageSeconds": {state: round(seconds, 3) for state, seconds in latencies.items()},
    }
    (SHOTS / "measurements.json").write_text(json.dumps(report, indent=2) + "\n")
    print("console measurements:", json.dumps(report))
    for page, (transferred, _) in measurements.items():
        assert transferred <= 300_000, f"{page}: {transferred} bytes"
    # The latencies are measured and reported (issue 20 asks for at most 1 s), not asserted: a timed assertion
    # on a shared CI machine would fail for the machine's load, not for the console.
