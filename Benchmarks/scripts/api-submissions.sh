#!/usr/bin/env bash
# Submission throughput and list latency of the control plane's API as workloads accumulate, against a release
# build of `sovereign serve` on the East-African example: 10,000 workloads submitted one after another on one
# kept-alive connection (what a client script does), then pages of `GET /v1/workloads?limit=100` and the whole
# list. Server and client share this machine's cores. `--connections N` submits on N kept-alive connections at
# once (each its share of COUNT, one request at a time on each), as N clients do.
# SOVEREIGN_BIN names a release `sovereign` to use instead of building one (e.g. Benchmarks/.build/release/sovereign).
# Usage: Benchmarks/scripts/api-submissions.sh [--connections N] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
connections=1
if [ "${1:-}" = "--connections" ]; then
    connections=$2
    shift 2
fi
count=${1:-10000}
sovereign=${SOVEREIGN_BIN:-.build/release/sovereign}
[ -n "${SOVEREIGN_BIN:-}" ] || swift build -c release --product sovereign >/dev/null
dir=$(mktemp -d)
"$sovereign" serve Examples/east-africa --db "$dir/state.sqlite" --listen 127.0.0.1:0 --tick "1 s" \
    --work-dir "$dir/work" >"$dir/out" 2>"$dir/err" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do [ -s "$dir/out" ] && break; sleep 0.1; done
url=$(sed 's/listening on //' "$dir/out")
token=$(grep -v '^#' "$dir/state.sqlite.tokens" | cut -d' ' -f1)
python3 - "$url" "$token" "$count" Examples/workloads/digits-dar.yaml "$connections" <<'PY'
import http.client, re, sys, threading, time, urllib.parse
url, token, count, template = sys.argv[1], sys.argv[2], int(sys.argv[3]), open(sys.argv[4]).read()
connections = int(sys.argv[5])
template = re.sub(r"command: \[.*\]", 'command: ["true"]', template)
parsed = urllib.parse.urlparse(url)
connection = http.client.HTTPConnection(parsed.hostname, parsed.port)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"}
def timed(method, path, body=None, on=connection):
    start = time.perf_counter()
    on.request(method, path, body=body, headers=headers)
    response = on.getresponse()
    data = response.read()
    return time.perf_counter() - start, response.status, len(data)
lock, done, marks, latencies = threading.Lock(), [0], [], []
def submit(first):
    # Connection k submits bench-(k+1), bench-(k+1+N), ...: every name once, N requests in flight at a time.
    own = http.client.HTTPConnection(parsed.hostname, parsed.port)
    for i in range(first, count + 1, connections):
        elapsed, status, _ = timed("POST", "/v1/workloads", template.replace("name: digits-dar", f"name: bench-{i}"), own)
        assert status == 201, status
        with lock:
            done[0] += 1
            latencies.append(elapsed)
            if done[0] in (1000, count // 2, count):
                marks.append((done[0], time.perf_counter() - started))
started = time.perf_counter()
threads = [threading.Thread(target=submit, args=(k + 1,)) for k in range(connections)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(f"{connections} connection(s)")
previous = (0, 0.0)
for finished, at in marks:
    rate = (finished - previous[0]) / (at - previous[1])
    print(f"submissions {previous[0] + 1:>6}..{finished:<6}: {rate:8.0f} per second")
    previous = (finished, at)
latencies.sort()
print(f"submission latency: p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
      f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms")
def latencies(path, n):
    samples = sorted(timed("GET", path)[0] for _ in range(n))
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99) - 1] * 1000
p50, p99 = latencies("/v1/workloads?limit=100", 1000)
print(f"GET /v1/workloads?limit=100 at {count} workloads: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
p50, p99 = latencies(f"/v1/workloads?limit=100&continue=after-{count // 2}", 1000)
print(f"GET /v1/workloads?limit=100&continue=(middle) at {count} workloads: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
_, _, size = timed("GET", "/v1/workloads")
p50, p99 = latencies("/v1/workloads", 20)
print(f"GET /v1/workloads (all {count}, {size / 1e6:.1f} MB) : p50 {p50:.0f} ms, p99 {p99:.0f} ms")
PY
