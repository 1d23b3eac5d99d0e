#!/usr/bin/env bash
# Checkpoint transfer through the relay, end to end on loopback, against plain copies of the same bytes.
#
# For each size (MiB): a release `sovereign serve` on the East-African example with two site agents
# (nairobi-1, mombasa-1, each its own work directory, on this machine); a workload of the Kenyan dataset
# whose command only sleeps is placed at one of them, its checkpoint directory is filled with SIZE MiB of
# random bytes (one file), and that site's power file drops to 0 kW: the work stops and its checkpoint moves
# through the control plane's relay to the other site (packed with every SHA-256, sealed, signed, uploaded
# over HTTP, stored at the relay, fetched over HTTP, opened, staged, every digest checked, synced, renamed
# into place). The destination agent prints how long its fetch took, from the moment it was told to fetch
# (the source is told to send at the same poll) to the checkpoint in place: that is the relay's time.
#
# Baselines, the same file and the same disk:
#   cp+sync   a local `cp` and `sync` of the copy (what a plain copy on one machine costs);
#   http      a plain HTTP copy over the same loopback: `curl -T` into a small server (Python, stdlib,
#             writing it to disk as the relay does) then `curl -o` back from it, then `sync` of the download.
# Peak resident memory (VmHWM) of the server and both agents is read before they stop.
#
# Usage: Benchmarks/scripts/checkpoint-relay.sh [SIZE_MIB...]   (default: 16 256 1024)
# SOVEREIGN=path runs another build of `sovereign`. Needs curl and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD/..
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(16 256 1024)
if [ -z "${SOVEREIGN:-}" ]; then
    nice -n 10 swift build -c release --product sovereign >/dev/null
    SOVEREIGN=$PWD/.build/release/sovereign
fi
dir=$(mktemp -d)
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; pids=(); }
trap 'stop; rm -rf "$dir"' EXIT

now() { date +%s.%N; }
rate() { awk -v mib="$1" -v s="$2" 'BEGIN { printf "%.0f", mib / s }'; }
peak() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
wait_for() { # FILE PATTERN SECONDS
    for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1:" >&2; tail -20 "$1" >&2; return 1
}

# A plain HTTP file server: PUT writes the body to disk, GET reads it back, 1 MiB at a time.
python3 - "$dir" >"$dir/plain.out" 2>&1 <<'PY' &
import http.server, os, shutil, sys
root = sys.argv[1]
class Plain(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        view = memoryview(bytearray(1 << 20))   # one reused buffer: Python's fastest way to take a body
        with open(root + "/plain.blob", "wb", buffering=0) as out:
            while left > 0:
                n = self.rfile.readinto(view[:min(left, len(view))]); out.write(view[:n]); left -= n
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        path = root + "/plain.blob"
        self.send_response(200); self.send_header("Content-Length", str(os.path.getsize(path))); self.end_headers()
        with open(path, "rb") as f: shutil.copyfileobj(f, self.wfile, 1 << 20)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Plain)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
plain=$!
wait_for "$dir/plain.out" . 10
plainPort=$(head -1 "$dir/plain.out")

printf 'operator-token-0123456789 operator\nsite-nairobi-0123456789 site nairobi-1\nsite-mombasa-0123456789 site mombasa-1\n' \
    >"$dir/tokens"
printf '%-9s %10s %10s %10s %8s %8s   %s\n' size relay cp+sync http vs-cp vs-http "peak RSS MB (serve, source, destination)"
for size in "${sizes[@]}"; do
    run=$dir/run-$size
    mkdir -p "$run"
    head -c $((size << 20)) /dev/urandom >"$run/blob"

    start=$(now); cp "$run/blob" "$run/copy"; sync "$run/copy"; cpTime=$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')
    rm -f "$run/copy"
    start=$(now)
    curl -sSf -T "$run/blob" "http://127.0.0.1:$plainPort/blob" >/dev/null
    curl -sSf -o "$run/download" "http://127.0.0.1:$plainPort/blob"; sync "$run/download"
    httpTime=$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')
    rm -f "$run/download" "$dir/plain.blob"

    "$SOVEREIGN" serve "$repo/Examples/east-africa" --db "$run/state.sqlite" --tokens "$dir/tokens" \
        --listen 127.0.0.1:0 --site-agents nairobi-1,mombasa-1 --agent-lease "5 s" >"$run/serve.out" 2>&1 &
    server=$!; pids+=("$server")
    wait_for "$run/serve.out" "listening on" 60
    url="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' "$run/serve.out" | head -1)"
    declare -A agent=()
    for site in nairobi mombasa; do
        echo "200 kW" >"$run/$site.power"
        SOVEREIGN_TOKEN=site-$site-0123456789 "$SOVEREIGN" site-agent --site $site-1 --control-plane "$url" \
            --work-dir "$run/$site" --power-file "$run/$site.power" --poll "500 ms" >"$run/$site.out" 2>&1 &
        agent[$site]=$!; pids+=("$!")
    done
    sed 's/tz-government-correspondence/ke-clinical-notes/; s/digits-dar/relay-bench/' \
        "$repo/Examples/workloads/digits-dar.yaml" |
        sed 's/^    command: .*/    command: [sleep, "100000"]/' >"$run/workload.yaml"
    curl -sSf -H "Authorization: Bearer operator-token-0123456789" --data-binary @"$run/workload.yaml" \
        "$url/v1/workloads" >/dev/null
    for _ in $(seq 1 300); do ls -d "$run"/*/workloads/relay-bench >/dev/null 2>&1 && break; sleep 0.1; done
    from=$(ls -d "$run"/*/workloads/relay-bench | sed "s|$run/||; s|/.*||")
    to=$([ "$from" = nairobi ] && echo mombasa || echo nairobi)
    mkdir -p "$run/$from/workloads/relay-bench/checkpoint"
    mv "$run/blob" "$run/$from/workloads/relay-bench/checkpoint/blob"
    sleep 2   # two polls: the control plane learns the checkpoint's size
    echo "0 kW" >"$run/$from.power"
    wait_for "$run/$to.out" "received $((size << 20)) bytes" 600
    relayTime=$(sed -n "s/.*received $((size << 20)) bytes in \([0-9.]*\) s.*/\1/p" "$run/$to.out" | head -1)
    memory="$(peak "$server"), $(peak "${agent[$from]}"), $(peak "${agent[$to]}")"
    stop
    relay=$(rate "$size" "$relayTime"); cp=$(rate "$size" "$cpTime"); http=$(rate "$size" "$httpTime")
    printf '%-9s %10s %10s %10s %7s%% %7s%%   %s\n' "$size MiB" "$relay MiB/s" "$cp MiB/s" "$http MiB/s" \
        "$((100 * relay / cp))" "$((100 * relay / http))" "$memory"
    rm -rf "$run"
done
kill "$plain"
