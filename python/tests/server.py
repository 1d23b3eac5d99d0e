"""`sovereign serve` and `sovereign agent` as real processes on 127.0.0.1, for the end-to-end tests."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import REPOSITORY, Processes

OPERATOR_TOKEN = "op-0123456789abcdef0123"


def binary() -> str:
    """``$SOVEREIGN_BIN``, else the repository's debug build; a missing binary fails the test, saying how to build."""
    path = os.environ.get("SOVEREIGN_BIN") or str(REPOSITORY / ".build" / "debug" / "sovereign")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"expected the sovereign binary at {path}, found none: run `swift build --product sovereign` "
            "or set SOVEREIGN_BIN"
        )
    return path


def site_token(site: str) -> str:
    return f"site-{site}-0123456789abcdef"


def write_tokens(path: Path, sites: list[str]) -> Path:
    lines = [f"{OPERATOR_TOKEN} operator", *(f"{site_token(site)} site {site}" for site in sites)]
    path.write_text("\n".join(lines) + "\n")
    return path


class Server:
    """A running `sovereign serve` with a temporary database and work directory."""

    def __init__(self, processes: Processes, directory: Path, specs: list[str], tokens: Path, *extra: str) -> None:
        log = directory / "serve.log"
        database, work = str(directory / "state.sqlite"), str(directory / "work")
        command = [binary(), "serve", *specs, "--db", database, "--listen", "127.0.0.1:0", "--tick", "200 ms",
                   "--tokens", str(tokens), "--work-dir", work, *extra]  # fmt: skip
        self.process = processes.start(command, log=log)
        self.url = self._address(log)

    def _address(self, log: Path) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines(keepends=True):
                if line.startswith("listening on ") and line.endswith("\n"):
                    return line.removeprefix("listening on ").strip()
            assert self.process.poll() is None, f"the server ended: {log.read_text()}"
            time.sleep(0.1)
        raise AssertionError(f"the server never said where it listens: {log.read_text()}")

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {OPERATOR_TOKEN}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, f"GET {path}: {status} {body!r}"
        return json.loads(body)

    def state(self, workload: str) -> str:
        return str(self.json(f"/v1/workloads/{workload}")["workload"]["state"])

    def set_power(self, site: str, kilowatts: float) -> None:
        body = json.dumps({"available": f"{kilowatts} kW"}).encode()
        status, answer = self.request("PUT", f"/v1/sites/{site}/power", body)
        assert status == 200, f"PUT power: {status} {answer!r}"

    def wait(self, what: str, condition: Any, seconds: float = 300) -> None:
        """Polls ``condition`` until it holds (readiness, not a timing assertion); fails after ``seconds``."""
        deadline = time.monotonic() + seconds
        while not condition():
            assert self.process.poll() is None, "the server ended"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)

    def ledger(self, kind: str) -> list[dict[str, Any]]:
        entries = self.json("/v1/ledger/entries?limit=1000")["entries"]
        return [e["entry"]["fields"] for e in entries if e["entry"]["kind"] == kind]
