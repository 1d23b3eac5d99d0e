#!/usr/bin/env bash
# Submission throughput and list latency of the control plane's API as workloads accumulate, against a release
# build of `sovereign serve` on the East-African example: 10,000 workloads submitted one after another on one
# kept-alive connection (what a client script does), then pages of `GET /v1/workloads?limit=100` and the whole
# list. Server and client share this machine's cores. Usage: Benchmarks/scripts/api-submissions.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-10000}
swift build -c release --product sovereign >/dev/null
dir=$(mktemp -d)
.build/release/sovereign serve Examples/east-africa --db "$dir/state.sqlite" --listen 127.0.0.1:0 --tick "1 s" \
    --work-dir "$dir/work" >"$dir/out" 2>"$dir/err" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do [ -s "$dir/out" ] && break; sleep 0.1; done
url=$(sed 's/listening on //' "$dir/out")
token=$(grep -v '^#' "$dir/state.sqlite.tokens" | cut -d' ' -f1)
python3 - "$url" "$token" "$count" Examples/workloads/digits-dar.yaml <<'PY'
import http.client, re, statistics, sys, time, urllib.parse
url, token, count, template = sys.argv[1], sys.argv[2], int(sys.argv[3]), open(sys.argv[4]).read()
template = re.sub(r"command: \[.*\]", 'command: ["true"]', template)
parsed = urllib.parse.urlparse(url)
connection = http.client.HTTPConnection(parsed.hostname, parsed.port)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"}
def timed(method, path, body=None):
    start = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return time.perf_counter() - start, response.status, len(data)
marks, started = [], time.perf_counter()
for i in range(1, count + 1):
    elapsed, status, _ = timed("POST", "/v1/workloads", template.replace("name: digits-dar", f"name: bench-{i}"))
    assert status == 201, status
    if i in (1000, count // 2, count):
        marks.append((i, time.perf_counter() - started))
previous = (0, 0.0)
for done, at in marks:
    rate = (done - previous[0]) / (at - previous[1])
    print(f"submissions {previous[0] + 1:>6}..{done:<6}: {rate:8.0f} per second")
    previous = (done, at)
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
