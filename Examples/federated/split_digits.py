#!/usr/bin/env python3
"""Splits the bundled digits data (../data/digits.csv.gz) into a held-back test set and three
label-skewed, non-IID site shares for the federated example. Deterministic (seed 2026).

Every row keeps its 64 pixel values and its label (last column). 20% of each class is held back as
test.csv. Each remaining row goes to its label's home site with probability 0.8 and to each of the
other two sites with 0.1: ke holds mostly 0-3, ug mostly 4-6, tz mostly 7-9.

    python3 Examples/federated/split_digits.py
"""
import csv
import gzip
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
with gzip.open(os.path.join(here, "..", "data", "digits.csv.gz"), "rt") as f:
    rows = [row for row in csv.reader(f) if row]

rng = random.Random(2026)
by_label = {}
for row in rows:
    by_label.setdefault(int(row[-1]), []).append(row)

home = {**{d: "ke" for d in range(0, 4)}, **{d: "ug" for d in range(4, 7)}, **{d: "tz" for d in range(7, 10)}}
sites = ["ke", "ug", "tz"]
test, shares = [], {s: [] for s in sites}
for label in sorted(by_label):
    group = by_label[label][:]
    rng.shuffle(group)
    cut = round(len(group) * 0.2)
    test.extend(group[:cut])
    for row in group[cut:]:
        r = rng.random()
        others = [s for s in sites if s != home[label]]
        site = home[label] if r < 0.8 else (others[0] if r < 0.9 else others[1])
        shares[site].append(row)

os.makedirs(os.path.join(here, "data"), exist_ok=True)
for name, part in [("test", test)] + [(s, shares[s]) for s in sites]:
    rng.shuffle(part)
    with open(os.path.join(here, "data", f"{name}.csv"), "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(part)
    counts = [sum(1 for r in part if int(r[-1]) == d) for d in range(10)]
    print(f"{name}: {len(part)} rows, per label {counts}")
