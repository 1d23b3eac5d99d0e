#!/usr/bin/env bash
# A one-node Slurm cluster on loopback, without systemd, for tests, CI and benchmarks: its own munged (key,
# socket, pid and log under DIR), slurmctld and slurmd in the foreground (-D) in the background of this
# script, state, spool, logs and pid files under DIR. Two clusters coexist on different ports and directories.
#
#   Scripts/slurm-cluster.sh start DIR CTLD_PORT SLURMD_PORT [NAME]   # prints SLURM_CONF=DIR/slurm.conf
#   Scripts/slurm-cluster.sh stop DIR                                 # kills what start started, by PID
#
# Clients reach it with SLURM_CONF=DIR/slurm.conf. The node is called NAME (default "node") and answers on
# 127.0.0.1 (NodeHostname is the machine's hostname, as slurmd requires); it has the machine's CPUs and
# declares 8 GPUs (empty files standing for the devices) so that `--gres=gpu:N` jobs are accepted. Needs Debian's
# slurmctld, slurmd, slurm-client and munge (.ci/run installs them), and root.
set -euo pipefail

# Close every descriptor above 2 this script inherited (bar bash's own 255), so the daemons it leaves running
# hold none of its caller's: a caller that waits for the end of its pipes, or learns of its child's exit
# from a descriptor closing (Foundation's Process does), would otherwise wait for the daemons.
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

usage() {
    echo "usage: $0 start DIR CTLD_PORT SLURMD_PORT [NAME] | stop DIR" >&2
    exit 2
}

stop() {
    # SIGTERM to all three at once (each takes a second or two to go), then SIGKILL to what outlives 5 s.
    local dir=$1 pids=()
    # The cluster's jobs first, so that no job's process outlives it (only this cluster's: its own SLURM_CONF).
    if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
        export SLURM_CONF="$dir/slurm.conf"
        timeout 15 scancel --full --signal=KILL --user="$(id -un)" 2>/dev/null || true
        timeout 15 scancel --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 50); do
            [ -z "$(timeout 15 squeue --noheader --format=%i 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    for daemon in slurmd slurmctld munged; do
        local file="$dir/$daemon.pid"
        [ -f "$file" ] || continue
        local pid
        pid=$(cat "$file")
        rm -f "$file"
        if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then pids+=("$pid"); fi
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}

start() {
    local dir=$1 ctld_port=$2 slurmd_port=$3 name=${4:-node}
    for program in munged mungekey slurmctld slurmd sinfo; do
        command -v "$program" >/dev/null || {
            echo "$0: $program not found: install slurmctld slurmd slurm-client munge (or run .ci/run)" >&2
            exit 1
        }
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    chmod 0700 "$dir/munge"
    [ -f "$dir/munge/munge.key" ] || mungekey --create --keyfile="$dir/munge/munge.key" --force
    chmod 0400 "$dir/munge/munge.key"
    local cpus host
    cpus=$(nproc)
    host=$(hostname -s)
    cat >"$dir/slurm.conf" <<CONF
ClusterName=$(basename "$dir" | tr -c 'a-z0-9\n' 'x' | cut -c1-30)
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
GresTypes=gpu
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$name NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus Gres=gpu:8 State=UNKNOWN
PartitionName=main Nodes=$name Default=YES MaxTime=INFINITE State=UP
CONF
    cat >"$dir/gres.conf" <<CONF
NodeName=$name Name=gpu File=$dir/dev/gpu[0-7]
CONF
    mkdir -p "$dir/dev"
    for i in 0 1 2 3 4 5 6 7; do : >"$dir/dev/gpu$i"; done
    stop "$dir"
    munged --foreground --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" >>"$dir/log/munged.out" 2>&1 &
    echo $! >"$dir/munged.pid"
    for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -D -f "$dir/slurm.conf" >>"$dir/log/slurmctld.out" 2>&1 &
    echo $! >"$dir/slurmctld.pid"
    slurmd -D -f "$dir/slurm.conf" -N "$name" >>"$dir/log/slurmd.out" 2>&1 &
    echo $! >"$dir/slurmd.pid"
    for _ in $(seq 300); do
        if [ "$(sinfo --noheader -n "$name" -o %t 2>/dev/null | tr -d ' *')" = idle ]; then
            echo "SLURM_CONF=$dir/slurm.conf"
            return 0
        fi
        sleep 0.1
    done
    echo "$0: the node $name of $dir did not become idle within 30 s; sinfo says:" >&2
    sinfo -N -l >&2 || true
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    stop "$dir"
    exit 1
}

case "${1:-}" in
start) [ $# -ge 4 ] || usage; start "$2" "$3" "$4" "${5:-}" ;;
stop) [ $# -eq 2 ] || usage; stop "$2" ;;
*) usage ;;
esac
