#!/usr/bin/python3
"""One cycle of a queue that runs in lockstep, from its requests' dispatch and completion times: real (a block-layer
trace) or simulated (`pvsim run --trace`), side by side.

Usage:
  /usr/bin/python3 analysis/cycle_phases.py TRACE [TRACE ...] [--gap-us 3] [--pass-size N] [--json FILE]

A TRACE is either
- a CSV (or .csv.gz) of per-request block events with the columns d_s (issued to the driver) and c_s (completed), in
  seconds, and optionally comm (then only fio's rows count): the format of the shared traces'
  per-request/*_block_events.csv.gz; or
- a Chrome trace written by `pvsim run --trace` (the hardware queue's request spans, "blkmq.hctx<N>": the dispatch at
  the start of a span, the completion at its end).
Completions less than --gap-us apart are one pass: the requests one interrupt handed back. A cycle runs from the last
completion of a full pass (--pass-size requests, by default the most frequent pass size) to the last completion of the
next full pass, when exactly as many dispatches lie between the two. Its phases:
  completion -> 1st dispatch   the last completion of a pass to the first dispatch after it (the job wakes, reaps,
                               submits)
  1st -> 2nd dispatch          (the first submission's doorbell: a kick)
  2nd -> last dispatch         the other submissions
  last dispatch -> completion  the last dispatch to the first completion of the next pass (the backend's pass)
  completions' spread          first to last completion of the next pass (the interrupt handler's work)
  cycle                        the whole
Prints each phase's median and mean (microseconds) per trace, the share of requests completed in full passes, and
writes them with --json. Exit 2 on a file it cannot read, naming it.
"""
import argparse
import bisect
import collections
import csv
import gzip
import json
import statistics
import sys

PHASES = [
    ("completion_to_first_dispatch", "completion -> 1st dispatch"),
    ("first_to_second_dispatch", "1st -> 2nd dispatch"),
    ("second_to_last_dispatch", "2nd -> last dispatch"),
    ("last_dispatch_to_completion", "last dispatch -> completion"),
    ("completion_spread", "completions' spread"),
    ("cycle", "cycle"),
]


class BadInput(Exception):
    pass


def read_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    dispatches, completions = [], []
    with opener(path, "rt", newline="") as f:
        rows = csv.DictReader(f)
        if rows.fieldnames is None or "d_s" not in rows.fieldnames or "c_s" not in rows.fieldnames:
            raise BadInput(f"{path}: expected a CSV with the columns d_s and c_s (seconds), got {rows.fieldnames}")
        for n, row in enumerate(rows, start=2):
            if "comm" in row and row["comm"] not in ("fio", None):
                continue
            try:
                dispatches.append(float(row["d_s"]))
                completions.append(float(row["c_s"]))
            except (TypeError, ValueError):
                raise BadInput(f"{path}: line {n}: d_s and c_s must be numbers, got {row['d_s']!r}, {row['c_s']!r}")
    return dispatches, completions


def read_pvsim_trace(path):
    with open(path) as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    dispatches, completions = [], []
    for e in events:
        if e.get("ph") == "X" and str(e.get("name", "")).startswith("blkmq.hctx") and e.get("cat") == "request":
            dispatches.append(e["ts"] * 1e-6)
            completions.append((e["ts"] + e["dur"]) * 1e-6)
    if not dispatches:
        raise BadInput(f"{path}: no blk_mq hardware-queue request span (blkmq.hctx*) in this trace")
    return dispatches, completions


def read_trace(path):
    try:
        if path.endswith(".json"):
            return read_pvsim_trace(path)
        return read_csv(path)
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}")
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        raise BadInput(f"{path}: not a pvsim Chrome trace nor a block-event CSV ({e})")


def passes(completions, gap_s):
    groups = []
    for t in sorted(completions):
        if groups and t - groups[-1][-1] <= gap_s:
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


def cycle_phases(dispatches, completions, gap_us=3.0, pass_size=None):

    groups = passes(completions, gap_us * 1e-6)
    sizes = collections.Counter(len(g) for g in groups)
    if pass_size is None:
        pass_size = max(sizes.items(), key=lambda kv: (kv[1] * kv[0], kv[0]))[0]
    d = sorted(dispatches)
    phases = {key: [] for key, _ in PHASES}
    for g0, g1 in zip(groups, groups[1:]):
        if len(g0) != pass_size or len(g1) != pass_size or pass_size < 2:
            continue
        lo, hi = bisect.bisect_right(d, g0[-1]), bisect.bisect_left(d, g1[0])
        between = d[lo:hi]
        if len(between) != pass_size:
            continue
        phases["completion_to_first_dispatch"].append(between[0] - g0[-1])
        phases["first_to_second_dispatch"].append(between[1] - between[0])
        phases["second_to_last_dispatch"].append(between[-1] - between[1])
        phases["last_dispatch_to_completion"].append(g1[0] - between[-1])
        phases["completion_spread"].append(g1[-1] - g1[0])
        phases["cycle"].append(g1[-1] - g0[-1])
    in_full = sizes.get(pass_size, 0) * pass_size / max(1, len(completions))
    out = {"requests": len(completions), "pass_size": pass_size, "share_in_full_passes": in_full,
           "cycles": len(phases["cycle"]), "phases_us": {}}
    for key, _ in PHASES:
        v = phases[key]
        if v:
            out["phases_us"][key] = {"p50": statistics.median(v) * 1e6, "mean": statistics.fmean(v) * 1e6}
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("traces", nargs="+", metavar="TRACE")
    ap.add_argument("--gap-us", type=float, default=3.0, help="completions closer than this are one pass (3)")
    ap.add_argument("--pass-size", type=int, help="requests of a full pass (default: the most frequent)")
    ap.add_argument("--json", help="write the phases of every trace to this file")
    args = ap.parse_args(argv)
    results = {}
    try:
        for path in args.traces:
            d, c = read_trace(path)
            results[path] = cycle_phases(d, c, args.gap_us, args.pass_size)
    except BadInput as e:
        print(f"cycle_phases.py: {e}", file=sys.stderr)
        return 2
    width = max(len(label) for _, label in PHASES)
    for path, r in results.items():
        print(f"{path}: {r['requests']} requests, {r['share_in_full_passes'] * 100:.0f} % in passes of "
              f"{r['pass_size']}, {r['cycles']} cycles")
        for key, label in PHASES:
            p = r["phases_us"].get(key)
            text = f"p50 {p['p50']:8.1f} us   mean {p['mean']:8.1f} us" if p else "(no full cycle)"
            print(f"  {label:<{width}}  {text}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
