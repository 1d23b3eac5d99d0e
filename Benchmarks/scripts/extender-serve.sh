# Sourced by extender-http.sh and extender-cycle.sh: builds a release `sovereign` and ExtenderLoad (in
# Benchmarks/.build), writes a cluster of $nodes nodes made from the Alibaba GPU trace, serves its NodeList
# from a fake API server (Python, stdlib) and starts `sovereign serve --extender-listen --kubernetes` on it.
# SOVEREIGN=path serves with another build of `sovereign` (to compare two commits back to back).
# Sets $dir (the load's files), $url (the extender's URL prefix) and $server (its process id); stops both
# processes and removes $dir on exit.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
nice -n 10 swift build -c release --product sovereign >/dev/null
nice -n 10 swift build -c release --product ExtenderLoad >/dev/null
load=$PWD/.build/release/ExtenderLoad
dir=$(mktemp -d)
"$load" write "$dir" "$nodes"
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
        body = nodes if "/nodes" in self.path else b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
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
"${SOVEREIGN:-.build/release/sovereign}" serve "$dir/fleet.yaml" --db "$dir/state.sqlite" --listen 127.0.0.1:0 \
    --extender-listen 127.0.0.1:0 --kubernetes "$dir/kubeconfig" >"$dir/out" 2>"$dir/err" &
server=$!
trap 'kill $server $api 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do grep -q "scheduler extender" "$dir/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/scheduler extender listening on //p' "$dir/out")
[ -n "$url" ] || { echo "sovereign serve did not start:" >&2; cat "$dir/err" >&2; exit 1; }
sleep 2   # the node watch's first list
