#!/usr/bin/env bash
# Requests per second of the scheduler extender over HTTP, measured with wrk (Debian's `wrk`) against a
# release build of `sovereign serve --extender-listen --kubernetes KUBECONFIG`, whose node watch reads a
# fake API server (Python, stdlib) holding the cluster's nodes. Bodies are what kube-scheduler sends for
# pods of the Alibaba GPU cluster trace (Benchmarks/Sources/ExtenderLoad). Server, fake API server and wrk
# share this machine's cores. Usage: [CONNECTIONS=4] Benchmarks/scripts/extender-http.sh [NODES] [DURATION]
set -euo pipefail
nodes=${1:-5000}
duration=${2:-10s}
connections=${CONNECTIONS:-4}   # kube-scheduler has one call in flight per scheduling cycle: CONNECTIONS=1 for its latency
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
source "$(dirname "$0")/extender-serve.sh"
cat >"$dir/post.lua" <<LUA
local bodies = {}
local mode = os.getenv("MODE")
for i = 0, 49 do
  local f = io.open("$dir/" .. mode .. "-" .. i .. ".json", "rb"); bodies[#bodies + 1] = f:read("*all"); f:close()
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[(n % #bodies) + 1])
end
LUA
for mode in names full; do
  for verb in filter prioritize; do
    printf '%-40s' "$nodes nodes, $mode, $verb"
    MODE=$mode wrk -t1 -c"$connections" -d"$duration" --latency -s "$dir/post.lua" "$url/$verb" |
      awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF} END {printf "%10s req/s   p50 %s   p99 %s%s\n", rps, p50, p99, (bad ? "   non-2xx: " bad : "")}'
  done
done
