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
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPOSITORY, Processes
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from server import OPERATOR_TOKEN, Server, binary

READER_TOKEN = "rd-0123456789abcdef0123"
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


def test_the_console_follows_a_power_drop_and_verifies_the_ledger(
    tmp_path: Path, processes: Processes, browser: webdriver.Chrome
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{OPERATOR_TOKEN} operator\n{READER_TOKEN} reader\n")
    server = Server(processes, tmp_path, ["Examples/east-africa"], tokens)
    driver = browser

    sign_in(driver, server.url, OPERATOR_TOKEN)
    wait(driver, "five site cards", lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.site")) == 5)
    driver.save_screenshot(str(SHOTS / "fleet.png"))

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
    wait(driver, "dar-1 short of power", lambda d: d.find_element(By.CSS_SELECTOR, short))
    driver.save_screenshot(str(SHOTS / "fleet-shortfall.png"))
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

    for page in ["plan", "federation", "sovereignty"]:
        open_page(driver, page)
        if page == "sovereignty":  # a cell of the heatmap shows the facts behind its level
            driver.find_element(By.CSS_SELECTOR, "button.seal").click()
            wait(driver, "the facts of a cell", lambda d: "Facts" in d.find_element(By.ID, "seal-detail").text)
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
