#!/usr/bin/env bash
# Read throughput of the control plane's API, measured with wrk (Debian's `wrk`) against a release build of
# `sovereign serve` on the East-African example holding 200 completed workloads and their ledger.
# Server and wrk share this machine's cores. Usage: Benchmarks/scripts/api-reads.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10s}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
swift build -c release --product sovereign >/dev/null
dir=$(mktemp -d)
.build/release/sovereign serve Examples/east-africa --db "$dir/state.sqlite" --listen 127.0.0.1:0 --tick "1 s" \
    >"$dir/out" 2>"$dir/err" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do [ -s "$dir/out" ] && break; sleep 0.1; done
url=$(sed 's/listening on //' "$dir/out")
token=$(grep -v '^#' "$dir/state.sqlite.tokens" | cut -d' ' -f1)
for i in $(seq 1 200); do
    sed -e "s/name: digits-dar/name: bench-$i/" -e 's|command: \[.*\]|command: ["true"]|' \
        Examples/workloads/digits-dar.yaml |
        curl -sf -o /dev/null -H "Authorization: Bearer $token" --data-binary @- "$url/v1/workloads"
done
sleep 3
size=$(curl -sf -H "Authorization: Bearer $token" "$url/v1/ledger" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
echo "ledger size: $size entries"
for path in /healthz /v1/workloads/bench-100 /v1/workloads /v1/sites /v1/plan \
    "/v1/ledger/proof/inclusion?index=$((size / 2))&size=$size" "/v1/ledger/entries?start=0&limit=100" /metrics; do
    printf '%-48s' "GET $path"
    wrk -t2 -c16 -d"$duration" -H "Authorization: Bearer $token" "$url$path" |
        awk '/Requests\/sec/ {rps=$2} /Latency/ {lat=$2} /Non-2xx/ {bad=$NF} END {printf "%10s req/s   mean latency %s%s\n", rps, lat, (bad ? "   non-2xx: " bad : "")}'
done
