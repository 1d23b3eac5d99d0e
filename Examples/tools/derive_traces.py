#!/usr/bin/env python3
"""Derive the bundled examples' trace files from the real data in ../shared/data.

Run from the repository root (any working directory works; paths are computed
from this file's location):

    python3 Examples/tools/derive_traces.py

Python 3 standard library only. Deterministic: the same input files always give
byte-identical outputs, so re-running it on an unchanged checkout changes nothing.

Inputs (see ../shared/data/README.md for provenance and licences):
  grid/ercot-eia930-hourly.csv.gz   EIA-930 hourly ERCOT demand D, day-ahead forecast DF, net generation NG (MW)
  carbon/global_energy_mix.json     per-country annual grid carbon intensity (gCO2/kWh), keyed by ISO alpha-3
  weather/piedmont-it-pvgis-tmy.epw PVGIS/ERA5 typical year, 45.0 N 8.0 E (Piedmont, Italy), EPW
  weather/greensboro-nc-tmy3.csv    NSRDB TMY3, Greensboro NC, TMY3 CSV

Derivations (every output value comes from one of those files):

  Grid availability, column `available` (fraction 0..1), for each hour h:
      available(h) = min(1, D(h) / DF(h))
  i.e. the demand the grid actually served divided by the demand the operator
  expected to serve the day before, capped at 1. During a firm load shed, D falls
  far below DF (rotating outages cut served load); in normal hours the ratio is
  close to 1 and above 1 about half the time (forecast error), hence the cap.
  If D or DF is empty for an hour inside a window, the ratio is linearly
  interpolated in time between the nearest hours before and after that have both
  values (none of the windows used below needs this; the script reports it if so).

  Re-timestamping: a window from another date is moved onto the example's
  calendar by a whole number of days, so every value keeps its UTC hour of day.

  Carbon intensity, column `gco2_per_kwh`: the country's annual figure
  `carbon_intensity` from global_energy_mix.json, repeated on every hour (no
  hourly carbon data for these countries exists in shared/data).

  Weather: byte-exact copies of the real files (stand-ins for the example sites).

Output CSV format: header `time,<column>`, then one row per hour with the time in
ISO 8601 UTC (`2026-03-02T00:00:00Z`), strictly increasing, no empty values,
LF line endings.
"""

import csv
import gzip
import hashlib
import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parents[2]  # Examples/tools/derive_traces.py -> repository root
DATA = (REPO / ".." / "shared" / "data").resolve()
EXAMPLES = REPO / "Examples"
FIXTURES = REPO / "Tests" / "SovereignModelTests" / "Fixtures"

HOUR = timedelta(hours=1)
ERCOT_FILE = DATA / "grid" / "ercot-eia930-hourly.csv.gz"
CARBON_FILE = DATA / "carbon" / "global_energy_mix.json"
PIEDMONT_EPW = DATA / "weather" / "piedmont-it-pvgis-tmy.epw"
GREENSBORO_TMY3 = DATA / "weather" / "greensboro-nc-tmy3.csv"


def utc(text):
    """Parse '2026-03-01T00' (the EIA file's period_utc) or '2026-03-01T00:00' as UTC."""
    fmt = "%Y-%m-%dT%H" if len(text) == 13 else "%Y-%m-%dT%H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def hours(start, end):
    """Every hour from start to end, both inclusive."""
    t = start
    while t <= end:
        yield t
        t += HOUR


# ---------------------------------------------------------------------------
# ERCOT EIA-930 -> availability
# ---------------------------------------------------------------------------

def load_ercot():
    """period (aware datetime) -> (D, DF) with None where the file's cell is empty."""
    table = {}
    with gzip.open(ERCOT_FILE, "rt", newline="") as f:
        for row in csv.DictReader(f):
            d = float(row["D"]) if row["D"] else None
            df = float(row["DF"]) if row["DF"] else None
            table[utc(row["period_utc"])] = (d, df)
    return table


def ratio(table, t):
    """min(1, D/DF) at hour t, or None if the hour is absent or D/DF is empty."""
    d, df = table.get(t, (None, None))
    if d is None or df is None or df <= 0:
        return None
    return min(1.0, d / df)


def availability(table, src_start, src_end):
    """[(source hour, available)] over the source window, filling gaps by linear
    interpolation between the nearest valid hours (searched up to 7 days away).
    Returns the series and the list of filled hours."""
    series, filled = [], []
    for t in hours(src_start, src_end):
        value = ratio(table, t)
        if value is None:
            before = next((t - k * HOUR for k in range(1, 169) if ratio(table, t - k * HOUR) is not None), None)
            after = next((t + k * HOUR for k in range(1, 169) if ratio(table, t + k * HOUR) is not None), None)
            if before is None or after is None:
                sys.exit(f"error: no valid ERCOT hour within 7 days of {iso(t)} to interpolate from")
            w = (t - before) / (after - before)
            value = ratio(table, before) * (1 - w) + ratio(table, after) * w
            filled.append(t)
        series.append((t, value))
    return series, filled


def shift_days(src_start, dst_start):
    """The whole-day offset that moves src_start onto dst_start (fails if it is not whole days)."""
    delta = dst_start - src_start
    if delta % timedelta(days=1):
        sys.exit(f"error: {iso(src_start)} -> {iso(dst_start)} is not a whole number of days")
    return delta


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

WRITTEN = []  # (path, column, rows) for the summary


def write_trace(path, column, rows, fmt):
    """rows: [(aware datetime, float)], strictly increasing hourly."""
    for (a, _), (b, _) in zip(rows, rows[1:]):
        assert b - a == HOUR, (path, a, b)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        f.write(f"time,{column}\n")
        for t, v in rows:
            f.write(f"{iso(t)},{fmt(v)}\n")
    WRITTEN.append((path, column, rows))


def avail_fmt(v):
    return f"{v:.4f}"


def carbon_fmt(v):
    return repr(v)  # the JSON figure exactly as published, e.g. 316.327


def copy_exact(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    if hashlib.sha256(src.read_bytes()).digest() != hashlib.sha256(dst.read_bytes()).digest():
        sys.exit(f"error: copy of {src} to {dst} is not byte-exact")
    origin = src.relative_to(DATA) if src.is_relative_to(DATA) else src.relative_to(REPO)
    print(f"copied   {dst.relative_to(REPO)}  ({dst.stat().st_size} bytes, byte-exact copy of {origin})")


def grid_trace(table, path, src_start, src_end, dst_start, label):
    """Write min(1, D/DF) over [src_start, src_end] re-timestamped to begin at dst_start."""
    series, filled = availability(table, src_start, src_end)
    delta = shift_days(src_start, dst_start)
    rows = [(t + delta, v) for t, v in series]
    write_trace(path, "available", rows, avail_fmt)
    low_t, low = min(series, key=lambda p: (p[1], p[0]))
    # Hours where served demand exceeded the day-ahead forecast (the raw ratio before the cap).
    capped = sum(1 for t, _ in series
                 if t not in filled and table[t][0] / table[t][1] > 1)
    print(f"derived  {path.relative_to(REPO)}  ({label}: ERCOT {iso(src_start)}..{iso(src_end)}, "
          f"shifted {delta.days:+d} days)")
    print(f"         min available {low:.4f} at source {iso(low_t)} = trace {iso(low_t + delta)}; "
          f"{capped} of {len(series)} hours had D/DF > 1 (capped to 1); "
          f"{len(filled)} hours interpolated{': ' + ', '.join(map(iso, filled)) if filled else ''}")


def carbon_trace(mix, path, iso3, start, end):
    entry = mix[iso3]
    value = float(entry["carbon_intensity"])
    write_trace(path, "gco2_per_kwh", [(t, value) for t in hours(start, end)], carbon_fmt)
    print(f"derived  {path.relative_to(REPO)}  ({entry['country_name']} {entry['year']}: {value} gCO2/kWh, constant)")


def main():
    if not DATA.is_dir():
        sys.exit(f"error: shared data not found at {DATA}")
    ercot = load_ercot()
    mix = json.loads(CARBON_FILE.read_text())

    # --- East Africa: scenario week 2026-03-02T00Z + 7 days; traces 2026-03-01T00Z..2026-03-10T00Z.
    ea = EXAMPLES / "east-africa"
    ea_start, ea_end = utc("2026-03-01T00"), utc("2026-03-10T00")

    # Nairobi grid: the same calendar hours of ERCOT (no shift).
    grid_trace(ercot, ea / "traces" / "nairobi-grid.csv", ea_start, ea_end, ea_start, "same hours")
    # Nairobi grid with a real firm load shed: Winter Storm Uri (ERCOT EEA3 onset 2021-02-15 07:20 UTC,
    # 20 GW shed), window 2021-02-13T00Z..2021-02-22T00Z moved onto 2026-03-01T00Z (+1842 days), so the
    # onset lands on 2026-03-03 07:20 UTC inside the scenario week.
    grid_trace(ercot, ea / "traces" / "nairobi-grid-loadshed.csv",
               utc("2021-02-13T00"), utc("2021-02-22T00"), ea_start, "Winter Storm Uri")
    # Mombasa grid: a second, distinct real signal -- ERCOT 2025-03-01..2025-03-10, moved +365 days.
    grid_trace(ercot, ea / "traces" / "mombasa-grid.csv",
               utc("2025-03-01T00"), utc("2025-03-10T00"), ea_start, "one year earlier")
    carbon_trace(mix, ea / "traces" / "rw-carbon.csv", "RWA", ea_start, ea_end)
    carbon_trace(mix, ea / "traces" / "ke-carbon.csv", "KEN", ea_start, ea_end)
    copy_exact(PIEDMONT_EPW, ea / "weather" / "nairobi.epw")
    copy_exact(GREENSBORO_TMY3, ea / "weather" / "kigali-tmy3.csv")

    # --- Europe: scenario 2026-07-13T00Z + 7 days; traces 2026-07-12T00Z..2026-07-21T00Z.
    eu = EXAMPLES / "europe"
    eu_start, eu_end = utc("2026-07-12T00"), utc("2026-07-21T00")
    grid_trace(ercot, eu / "traces" / "turin-grid.csv", eu_start, eu_end, eu_start, "same hours")
    for code, iso3 in (("fr", "FRA"), ("de", "DEU"), ("it", "ITA"), ("fi", "FIN"), ("pl", "POL")):
        carbon_trace(mix, eu / "traces" / f"{code}-carbon.csv", iso3, eu_start, eu_end)
    copy_exact(PIEDMONT_EPW, eu / "weather" / "piedmont.epw")
    copy_exact(GREENSBORO_TMY3, eu / "weather" / "greensboro-tmy3.csv")

    # --- Test fixtures: the contract example's files, and the two weather formats as shipped.
    contract = FIXTURES / "contract"
    copy_exact(ea / "traces" / "nairobi-grid.csv", contract / "traces" / "nairobi-grid.csv")
    copy_exact(ea / "traces" / "rw-carbon.csv", contract / "traces" / "rw-carbon.csv")
    copy_exact(PIEDMONT_EPW, contract / "weather" / "nairobi.epw")
    copy_exact(GREENSBORO_TMY3, FIXTURES / "weather" / "greensboro-nc-tmy3.csv")
    copy_exact(PIEDMONT_EPW, FIXTURES / "weather" / "piedmont-it-pvgis-tmy.epw")

    print("\nsummary of derived traces:")
    for path, column, rows in WRITTEN:
        fmt = avail_fmt if column == "available" else carbon_fmt
        low, high = min(rows, key=lambda p: p[1]), max(rows, key=lambda p: p[1])
        print(f"  {str(path.relative_to(REPO)):55s} {len(rows):4d} rows  {iso(rows[0][0])}..{iso(rows[-1][0])}  "
              f"{column} min {fmt(low[1])} ({iso(low[0])}) max {fmt(high[1])}")


if __name__ == "__main__":
    main()
