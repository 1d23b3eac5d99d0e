#!/usr/bin/env bash
# The API against its own OpenAPI document: the document is checked by an OpenAPI 3.1 validator, then
# schemathesis sends schema-valid and schema-invalid requests to a live `sovereign serve` on 127.0.0.1,
# to every route with every role's token (operator, reader, power, site), and fails on any 5xx, any
# answer the document does not list, any schema-valid request refused and any unknown method not 405.
# Bounded: 25 examples per operation and role; the server is stopped by PID on exit.
#
#     Scripts/api-fuzz.sh [PATH-TO-SOVEREIGN]      (default .build/debug/sovereign; needs schemathesis and
#                                                   openapi-spec-validator from PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/sovereign}
document=Sources/SovereignServer/openapi.yaml

python3 -m openapi_spec_validator "$document"

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
declare -A tokens=([operator]=$(token) [reader]=$(token) [power]=$(token) [site]=$(token))
{
    echo "${tokens[operator]} operator"
    echo "${tokens[reader]} reader"
    echo "${tokens[power]} power"
    echo "${tokens[site]} site nairobi-1"
} > "$work/tokens"

"$binary" serve Examples/east-africa Examples/federated/digits-eac.yaml --db "$work/state.sqlite" \
    --tokens "$work/tokens" --work-dir "$work/work" --listen "127.0.0.1:$port" --site-agents nairobi-1 > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; echo "api-fuzz: the server exited" >&2; exit 1; }
    sleep 0.5
done

status=0
for role in operator reader power site; do
    echo "api-fuzz: every route with the $role token"
    schemathesis --config-file Scripts/api-fuzz/schemathesis.toml run "$document" \
        --url "http://127.0.0.1:$port" --header "Authorization: Bearer ${tokens[$role]}" \
        --checks all --workers 1 --no-color --request-timeout 20 || status=1
done
kill -0 "$server" 2>/dev/null || { echo "api-fuzz: the server died during the run" >&2; status=1; }
if grep -q "request failed" "$work/server.log"; then
    echo "api-fuzz: the server logged failed requests:" >&2
    grep "request failed" "$work/server.log" | head -20 >&2
    status=1
fi
exit $status
