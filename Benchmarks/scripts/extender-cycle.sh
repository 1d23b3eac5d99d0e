#!/usr/bin/env bash
# The extender's cost per pod as kube-scheduler pays it: one keep-alive HTTP/1.1 connection, one call in
# flight, for each pod a `filter` with node names (nodeCacheCapable) and then a `prioritize` with the names
# filter kept, against a release `sovereign serve --extender-listen --kubernetes KUBECONFIG` whose node watch
# reads a fake API server; then the same pods in process, with no HTTP. Prints p50/p90/p99/max per cycle and
# per verb. Server, fake API server and client share this machine's cores.
# Usage: [PODS=5000] [NODELAY=1] [SINGLE_WRITE=0] [PERF=1] Benchmarks/scripts/extender-cycle.sh [NODES] [SENT]
#   NODES: the cluster (500); SENT: nodes per filter (all of them by default; kube-scheduler sends
#   numFeasibleNodesToFind, 500 of 5,000). PERF=1 also profiles the server during the HTTP cycles (perf).
set -euo pipefail
nodes=${1:-500}
sent=${2:-$nodes}
source "$(dirname "$0")/extender-serve.sh"
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 2000 -g -p "$server" -o "$dir/perf.data" 2>/dev/null &
    perf=$!
fi
SERVER_PID=$server "$load" cycle "$url" "$nodes" "$sent"
if [ "${PERF:-0}" = 1 ]; then
    kill -INT $perf; wait $perf || true
    for sort in dso symbol; do
        perf report -i "$dir/perf.data" --no-children -g none --sort $sort --percent-limit 1 --stdio 2>/dev/null |
            grep '%' | grep -v '^#' | cut -c1-160
    done
fi
