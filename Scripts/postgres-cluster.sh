#!/usr/bin/env bash
# A private PostgreSQL 15 cluster on loopback for the tests, without systemd: initdb into DIR/data, the server's
# socket, log and pid file under DIR, listening on 127.0.0.1:PORT only, trust authentication for its one user
# `sovereign` (nothing but this machine reaches it). Run as root, the server runs as the `postgres` user (initdb
# and postgres refuse root); run as anyone else, as that user.
#
#   Scripts/postgres-cluster.sh start DIR PORT   # prints the URL, postgres://sovereign@127.0.0.1:PORT/postgres
#   Scripts/postgres-cluster.sh stop DIR         # stops what start started, by PID, and removes DIR
#
# Needs Debian's postgresql-15 (.ci/run installs it).
set -euo pipefail

bin=/usr/lib/postgresql/15/bin

usage() {
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
}

as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_server "$bin/initdb" -D "$dir/data" -U sovereign --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://sovereign@127.0.0.1:$port/postgres"
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
