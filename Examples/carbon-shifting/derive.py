#!/usr/bin/env python3
"""Derives the carbon-shifting example's data files from their real sources (Python 3 standard library only).

    python3 Examples/carbon-shifting/derive.py ../shared/data/jobs/azure-100k.csv ger_ci.csv

writes, next to this script:
  jobs.csv        every job of the Azure trace (99,988: a year of arrivals), rows copied byte for byte
  carbon.csv      Germany's 2020 grid carbon intensity, hourly means of the 15-minute values, 2020-01-01T00Z..2021-01-05T00Z
  workloads.yaml  the first 1,000 of those jobs as Sovereign workloads (see README.md for the mapping)
Running it again gives byte-identical files.
"""
import csv
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
START = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
HOURS = 370 * 24  # the whole trace's 369 days (its last deadline is 8,852.6 h after the start) and a day's margin
YAML_JOBS = 1_000


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def derive_jobs(source):
    with open(source, newline="") as f:
        lines = [line for line in f.read().split("\n") if line]
    with open(os.path.join(HERE, "jobs.csv"), "w", newline="") as out:
        out.write("\n".join(lines) + "\n")
    return list(csv.DictReader(lines))


def derive_carbon(source):
    sums = {}
    with open(source, newline="") as f:
        for row in csv.DictReader(f):
            t = datetime.datetime.strptime(row["Time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
            hour = t.replace(minute=0)
            s = sums.setdefault(hour, [0.0, 0])
            s[0] += float(row["Carbon Intensity"])
            s[1] += 1
    with open(os.path.join(HERE, "carbon.csv"), "w", newline="") as out:
        out.write("time,gco2_per_kwh\n")
        for h in range(HOURS + 1):
            t = START + datetime.timedelta(hours=h)
            total, n = sums[t]
            out.write(f"{iso(t)},{total / n:.3f}\n")


def workload(i, job):
    """One job: `cpus` cores for `length` hours, arriving `arrival_time` hours after the start; jobs under 2 h
    may wait 6 h, longer ones 24 h (GAIA's setting), so the deadline is arrival + length + wait."""
    arrival = float(job["arrival_time"])
    length = float(job["length"])
    cores = int(job["cpus"])
    wait = 6 if length < 2 else 24
    # Arrivals and lengths are whole multiples of 5 minutes: round to the minute to drop float noise.
    a = START + datetime.timedelta(minutes=round(arrival * 60))
    d = a + datetime.timedelta(minutes=round((length + wait) * 60))
    hours = round(length * 60) / 60 * cores
    return (
        f"---\napiVersion: sovereign.dev/v1\nkind: Workload\nmetadata: {{name: job-{i:05d}}}\n"
        f"spec: {{type: training, model: {{parameters: 300M}}, compute: {{acceleratorHours: {hours!r}, on: core}}, "
        f"accelerators: {{min: {cores}, max: {cores}}}, arrival: {iso(a)}, deadline: {iso(d)}}}\n"
    )


def main():
    jobs = derive_jobs(sys.argv[1])
    derive_carbon(sys.argv[2])
    with open(os.path.join(HERE, "workloads.yaml"), "w", newline="") as out:
        out.write(
            "# The first 1,000 jobs of jobs.csv (written by derive.py; do not edit by hand).\n"
            "# Each job runs on `cpus` cores for `length` hours and may wait 6 h (under 2 h) or 24 h.\n"
        )
        for i, job in enumerate(jobs[:YAML_JOBS]):
            out.write(workload(i, job))


if __name__ == "__main__":
    main()
