"""Running pvsim once per point of a study, in parallel, with progress: what the study scripts (aio_sizing.py,
migration_drain.py) share. Run with /usr/bin/python3 (matplotlib comes from Debian in the scripts that plot).
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time


def run_pvsim(pvsim, scenario, outdir, sets=(), seed=None):
    """`pvsim run -q SCENARIO -o OUTDIR --set ... [--seed N]`: (results.json as a dict, "") or (None, pvsim's
    output)."""
    cmd = [pvsim, "run", "-q", scenario, "-o", outdir]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, proc.stdout + proc.stderr
    with open(os.path.join(outdir, "results.json")) as f:
        return json.load(f), ""


def run_points(points, run, jobs, label):
    """Calls run(point) -> (value, error) for every point on `jobs` threads, a progress line on stderr; a failed
    point's error is printed as it comes. Returns ({point: value} of the points that succeeded, failures)."""
    done, failed, t0 = {}, 0, time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run, p): p for p in points}
        for n, fut in enumerate(concurrent.futures.as_completed(futures), 1):
            point = futures[fut]
            value, err = fut.result()
            if value is None:
                failed += 1
                print(f"\npoint {point} failed:\n{err}", file=sys.stderr)
            else:
                done[point] = value
            print(f"\r[{label}] {n}/{len(points)} points, {time.time() - t0:.1f} s", end="", file=sys.stderr,
                  flush=True)
    print(file=sys.stderr)
    return done, failed
