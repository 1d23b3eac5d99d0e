#!/usr/bin/env python3
"""Two numbers of the Slurm executor on this machine, against a real one-node Slurm on loopback
(Scripts/slurm-cluster.sh, stopped by PID at the end):

1. attempts started per second through Slurm: N submissions one after another, each as the executor makes
   it (write the attempt's batch script, then `sbatch --parsable` with the executor's options), the way a
   site agent starts the attempts of one poll;
2. latency from a power drop to the job's SIGTERM: `sovereign serve` with one site agent driving the
   cluster (`--executor slurm`); a workload whose command writes the time it receives SIGTERM; the agent's
   power file goes to 0 kW and the time is taken; K pauses and resumes.

Usage: Scripts/slurm_bench.py [--binary .build/debug/sovereign] [--submissions 50] [--pauses 5] [--poll "1 s"]
Run from the repository root. Prints one line per measurement and a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "op-0123456789abcdef0123"
SITE_TOKEN = "site-dar-1-0123456789abcdef"

# The workload's command: write when it started, and on SIGTERM when the signal arrived, then exit 143.
PAUSABLE = (
    "import os, signal, sys, time\n"
    "d = os.environ['SOVEREIGN_CHECKPOINT_DIR']\n"
    "def term(*_):\n"
    "    open(os.path.join(d, 'term-%s' % os.environ['SOVEREIGN_ATTEMPT']), 'w').write(repr(time.time()))\n"
    "    sys.exit(143)\n"
    "signal.signal(signal.SIGTERM, term)\n"
    "open(os.path.join(d, 'started-%s' % os.environ['SOVEREIGN_ATTEMPT']), 'w').write(repr(time.time()))\n"
    "time.sleep(3600)\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def submissions(conf: str, work: str, count: int) -> float:
    """Seconds for `count` submissions made as the executor makes them; the jobs are cancelled after."""
    env = dict(os.environ, SLURM_CONF=conf)
    start = time.monotonic()
    ids = []
    for n in range(1, count + 1):
        attempt = os.path.join(work, "bench", "attempts", str(n))
        os.makedirs(attempt, exist_ok=True)
        script = os.path.join(attempt, "job.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nunset SOVEREIGN_RESUME\nexec 'true'\n")
        os.chmod(script, 0o700)
        out = subprocess.run(
            ["sbatch", "--parsable", f"--job-name=sovereign-bench-{n}", f"--output={attempt}/log",
             "--open-mode=append", f"--chdir={ROOT}", "--no-requeue",
             f"--export=ALL,SOVEREIGN_WORKLOAD=bench,SOVEREIGN_ATTEMPT={n}", "--signal=B:TERM@20", script],
            env=env, check=True, capture_output=True, text=True, timeout=60,
        ).stdout
        ids.append(out.strip().split(";")[0])
    elapsed = time.monotonic() - start
    subprocess.run(["scancel", *ids], env=env, check=False, timeout=60)
    return elapsed


def request(url: str, method: str = "GET", body: bytes | None = None) -> dict:
    req = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def wait(what: str, predicate, seconds: float = 120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def power_latency(binary: str, conf: str, work: str, pauses: int, poll: str) -> list[float]:
    tokens = os.path.join(work, "tokens")
    with open(tokens, "w") as f:
        f.write(f"{TOKEN} operator\n{SITE_TOKEN} site dar-1\n")
    power = os.path.join(work, "dar-1.power")
    with open(power, "w") as f:
        f.write("96 kW")
    serve = subprocess.Popen(
        [binary, "serve", "Examples/east-africa", "--db", os.path.join(work, "state.sqlite"), "--listen",
         "127.0.0.1:0", "--tick", "200 ms", "--tokens", tokens, "--site-agents", "dar-1"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    agent = None
    try:
        url = serve.stdout.readline().strip().removeprefix("listening on ")
        agent = subprocess.Popen(
            [binary, "site-agent", "--site", "dar-1", "--control-plane", url, "--work-dir",
             os.path.join(work, "agent"), "--power-file", power, "--poll", poll, "--executor", "slurm",
             "--slurm-conf", conf],
            cwd=ROOT, env=dict(os.environ, SOVEREIGN_TOKEN=SITE_TOKEN), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(os.path.join(ROOT, "Examples/workloads/digits-dar.yaml")) as f:
            spec = f.read()
        command = json.dumps(["python3", "-c", PAUSABLE])
        spec = spec.replace(
            'command: [python3, Examples/workloads/train_digits.py, --epochs, "40", --seconds-per-epoch, "0.5"]',
            f"command: {command}",
        ).replace("attempts: 3", "attempts: 30")
        request(f"{url}/v1/workloads", "POST", spec.encode())
        checkpoint = os.path.join(work, "agent", "workloads", "digits-dar", "checkpoint")
        latencies = []
        for n in range(1, pauses + 1):
            wait(f"attempt {n} to start", lambda: os.path.exists(os.path.join(checkpoint, f"started-{n}")))
            time.sleep(1)
            with open(power, "w") as f:
                f.write("0 kW")
            dropped = time.time()
            term = os.path.join(checkpoint, f"term-{n}")
            wait(f"attempt {n} to get SIGTERM", lambda: os.path.exists(term) and os.path.getsize(term) > 0)
            with open(term) as f:
                latencies.append(float(f.read()) - dropped)
            print(f"pause {n}: power drop to SIGTERM {latencies[-1] * 1000:.0f} ms", flush=True)
            wait(f"it to pause after attempt {n}",
                 lambda: request(f"{url}/v1/workloads/digits-dar").get("workload", {}).get("state") == "paused")
            with open(power, "w") as f:
                f.write("96 kW")
        return latencies
    finally:
        for process in (agent, serve):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/sovereign"))
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--pauses", type=int, default=5)
    parser.add_argument("--poll", default="1 s")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sovereign-slurm-bench-")
    cluster = os.path.join(work, "slurm")
    script = os.path.join(ROOT, "Scripts/slurm-cluster.sh")
    subprocess.run([script, "start", cluster, str(free_port()), str(free_port()), "bench"], check=True)
    try:
        conf = os.path.join(cluster, "slurm.conf")
        elapsed = submissions(conf, work, args.submissions)
        print(f"{args.submissions} submissions in {elapsed:.2f} s: {args.submissions / elapsed:.1f} attempts/s")
        latencies = power_latency(args.binary, conf, work, args.pauses, args.poll)
        print(
            f"power drop to SIGTERM (poll {args.poll}, {len(latencies)} pauses): median "
            f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
    finally:
        subprocess.run([script, "stop", cluster], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
