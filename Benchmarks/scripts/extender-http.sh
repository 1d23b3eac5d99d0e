#!/usr/bin/env bash
# Requests per second of the scheduler extender over HTTP, measured with wrk (Debian's `wrk`) against a
# release build of `sovereign serve --extender-listen --kubernetes KUBECONFIG`, whose node watch reads a
# fake API server (Python, stdlib) holding the cluster's nodes. Bodies are what kube-scheduler sends for
# pods of the Alibaba GPU cluster trace (Benchmarks/Sources/ExtenderLoad). Server, fake API server and wrk
# share this machine's cores. Usage: [CONNECTIONS=4] Benchmarks/scripts/extender-http.sh [NODES] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
nodes=${1:-5000}
duration=${2:-10s}
connections=${CONNECTIONS:-4}   # kube-scheduler has one call in flight per scheduling cycle: CONNECTIONS=1 for its latency
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
swift build -c release --product sovereign >/dev/null
dir=$(mktemp -d)
(cd Benchmarks && swift run -c release ExtenderLoad "$dir" "$nodes")
python3 - "$dir" >"$dir/api.out" 2>&1 <<'PY' &
import http.server, sys, time
nodes = open(sys.argv[1] + "/nodes.json", "rb").read()
class API(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_GET(self):
        if "watch=" in self.path:   # a quiet watch
            self.send_response(200); self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            time.sleep(3600); return
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(nodes))); self.end_headers(); self.wfile.write(nodes)
    def do_PATCH(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"kind":"Node","metadata":{"name":"x","resourceVersion":"2","labels":{}}}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), API)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
api=$!
for _ in $(seq 1 100); do [ -s "$dir/api.out" ] && break; sleep 0.1; done
printf 'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:%s"}}]\nusers: [{name: u, user: {token: bench}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n' \
    "$(head -1 "$dir/api.out")" >"$dir/kubeconfig"
.build/release/sovereign serve "$dir/fleet.yaml" --db "$dir/state.sqlite" --listen 127.0.0.1:0 \
    --extender-listen 127.0.0.1:0 --kubernetes "$dir/kubeconfig" >"$dir/out" 2>"$dir/err" &
server=$!
trap 'kill $server $api 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do grep -q "scheduler extender" "$dir/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/scheduler extender listening on //p' "$dir/out")
sleep 2   # the node watch's first list
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
