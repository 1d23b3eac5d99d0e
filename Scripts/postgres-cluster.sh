#!/usr/bin/env bash
# A private PostgreSQL 15 cluster on loopback for the tests, without systemd: initdb into DIR/data, the server's
# socket, log and pid file under DIR, listening on 127.0.0.1:PORT only, trust authentication for its one user
# `sovereign` (nothing but this machine reaches it). Run as root, the server runs as the `postgres` user (initdb
# and postgres refuse root); run as anyone else, as that user. The server speaks TLS with a certificate for
# 127.0.0.1 and localhost from a throwaway CA made here (DIR/tls/ca.crt), and the URL asks for it fully verified,
# so the tests connect the way a production replica should.
#
#   Scripts/postgres-cluster.sh start DIR PORT   # prints the URL:
#       postgres://sovereign@127.0.0.1:PORT/postgres?sslmode=verify-full&sslrootcert=DIR/tls/ca.crt
#   Scripts/postgres-cluster.sh stop DIR         # stops what start started, by PID, and removes DIR
#
# Needs Debian's postgresql-15 and openssl (.ci/run installs them).
set -euo pipefail

bin=/usr/lib/postgresql/15/bin

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A CA and a server certificate (P-256, two days) under DIR/tls; the server's key is the server user's, mode 0600,
# as PostgreSQL requires.
certificates() {
    local tls=$1/tls
    mkdir -p "$tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=Sovereign test CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>"$tls/openssl.log" || { cat "$tls/openssl.log" >&2; exit 1; }
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>>"$tls/openssl.log" || { cat "$tls/openssl.log" >&2; exit 1; }
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
        >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
        -extfile "$tls/server.ext" -out "$tls/server.crt" 2>>"$tls/openssl.log" || { cat "$tls/openssl.log" >&2; exit 1; }
    chmod 0600 "$tls/server.key" "$tls/ca.key"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$tls"
    return 0
}

start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    certificates "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_server "$bin/initdb" -D "$dir/data" -U sovereign --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$dir/tls/server.crt \
            -c ssl_key_file=$dir/tls/server.key" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://sovereign@127.0.0.1:$port/postgres?sslmode=verify-full&sslrootcert=$dir/tls/ca.crt"
}

stop() {
    # SIGINT is PostgreSQL's fast shutdown: sessions are ended, the server checkpoints and exits.
    local dir=$1 pid
    if [ -f "$dir/data/postmaster.pid" ]; then
        pid=$(head -1 "$dir/data/postmaster.pid")
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
stop) [ $# -eq 2 ] || usage; stop "$2" ;;
*) usage ;;
esac
