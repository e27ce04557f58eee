#!/usr/bin/python3
"""`pvsim sweep SWEEPFILE`: run a scenario at every point of a sweep file, on this machine (`local`), with GNU
parallel (`parallel`, here or over ssh) or as a Slurm job array (`slurm`); gather one CSV and a plot.

Usage (pvsim sweep runs this with its own binary as --pvsim):
  /usr/bin/python3 analysis/sweep_driver.py SWEEPFILE [-o DIR] [--backend local|parallel|slurm] [-j N]
                                            [--sshloginfile FILE] [--chunk N] [--pvsim build/pvsim]
  /usr/bin/python3 analysis/sweep_driver.py point DIR ID...      (one worker: runs the named points of DIR/plan.json)

The sweep file (JSON; every key checked, an unknown one refused with the nearest known key, exit 2):
  {
    "scenario": "../scenarios/mm1.json",          base scenario, relative to the sweep file (required)
    "set": {"duration": "0.1s"},                  --set applied to every point (optional)
    "parameters": {                               one axis per --set path, in this order (required, >= 1)
      "components.arrivals.rate_iops": [20000, 50000, 80000],        a list of values
      "components.server.servers": {"from": 1, "to": 4, "step": 1},  a range, both ends included
      "components.server.service.mean": {"from": 1e-6, "to": 1e-4, "count": 3, "scale": "log"}
    },
    "repeats": 2, "first_seed": 1,                each point run with seeds first_seed .. first_seed + repeats - 1
    "metrics": ["/jobs/*/iops", "/jobs/*/latency_us/p99"],   JSON pointers into results.json, * = every key
    "plot": {"x": "components.arrivals.rate_iops", "y": "/jobs/*/latency_us/mean"},
    "backend": {"type": "local", "jobs": 2}       or {"type": "parallel", "jobs": 8, "sshloginfile": "hosts"}
                                                  or {"type": "slurm", "chunk": 5, "sbatch_args": ["-p", "batch"]}
  }
A point is one combination of the parameters' values and one seed. DIR (default out/<sweep file name>) gets
plan.json (every point), points/NNNN/ (point.json, and results.json of `pvsim run`, or error.txt for a failed run),
sweep.csv (one row per point: point, parameters, seed, status, metrics; rows in point order, so every backend writes
the same file), sweep.png (the first metric, or plot.y, against plot.x, mean over the seeds, one line per combination
of the other parameters) and failed.txt. Run again on the same DIR, a sweep resumes: points whose results.json is
there for the same settings are kept, failed and missing ones are run. Exit status: 0 all points ran, 1 some failed
(each named with its error; the others ran), 2 a bad sweep file or option (nothing written).

`parallel` runs `parallel` (GNU parallel) with this script as the command: with --sshloginfile, on the machines it
lists, which must see DIR, the sweep's scenario, this script and pvsim at the same paths (a shared file system).
`slurm` writes DIR/slurm/job.sh, an sbatch job array of one task per `chunk` points still to run, submits it with
`sbatch --wait` and gathers when the array has finished (DIR on a file system the nodes share, as for `parallel`).
"""
import argparse
import concurrent.futures
import csv
import difflib
import itertools
import json
import math
import shlex
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_METRICS = ["/jobs/*/iops", "/jobs/*/MBps", "/jobs/*/latency_us/mean", "/jobs/*/latency_us/p50",
                   "/jobs/*/latency_us/p99"]
BACKENDS = ("local", "parallel", "slurm")


class SweepError(Exception):
    """A bad sweep file or option: exit 2, nothing written."""


# ---- the sweep file ----------------------------------------------------------------------------------------------

def _refuse_unknown(obj, known, where, file):
    for key in obj:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise SweepError(f"{file}: {where}/{key}: unknown key '{key}'{hint}; expected one of: "
                             + ", ".join(sorted(known)))


def _expect(cond, file, where, what, got):
    if not cond:
        raise SweepError(f"{file}: {where}: expected {what}, got {json.dumps(got)}")


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _tidy(v):
    """A float from a range without its rounding noise (0.30000000000000004 -> 0.3); integers stay integers."""
    return float(f"{v:.12g}") if isinstance(v, float) else v


def _values(spec, file, where):
    if isinstance(spec, list):
        _expect(spec, file, where, "a non-empty list of values", spec)
        for i, v in enumerate(spec):
            _expect(isinstance(v, (str, int, float, bool)), file, f"{where}/{i}", "a number, string or boolean", v)
        return list(spec)
    _expect(isinstance(spec, dict), file, where, "a list of values or a range {\"from\", \"to\", \"step\" | \"count\"}",
            spec)
    _refuse_unknown(spec, ["from", "to", "step", "count", "scale"], where, file)
    for k in ("from", "to"):
        _expect(k in spec, file, where, f"a range with \"{k}\"", spec)
        _expect(_is_number(spec[k]), file, f"{where}/{k}", "a number", spec[k])
    lo, hi = spec["from"], spec["to"]
    _expect(hi >= lo, file, f"{where}/to", f"a number >= \"from\" ({lo})", hi)
    _expect(("step" in spec) != ("count" in spec), file, where, "exactly one of \"step\" and \"count\"", spec)
    scale = spec.get("scale", "linear")
    _expect(scale in ("linear", "log"), file, f"{where}/scale", "\"linear\" or \"log\"", scale)
    if "step" in spec:
        step = spec["step"]
        _expect(_is_number(step) and step > 0, file, f"{where}/step", "a positive number", step)
        _expect(scale == "linear", file, f"{where}/scale", "\"linear\" with \"step\" (\"log\" takes \"count\")", scale)
        n = int(math.floor((hi - lo) / step + 1e-9)) + 1
        _expect(n <= 100000, file, f"{where}/step", "at most 100000 values in the range", step)
        if all(isinstance(x, int) for x in (lo, hi, step)):
            return [lo + i * step for i in range(n)]
        return [_tidy(lo + i * step) for i in range(n)]
    count = spec["count"]
    _expect(isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= 100000, file, f"{where}/count",
            "an integer in [1, 100000]", count)
    if count == 1:
        return [lo]
    if scale == "log":
        _expect(lo > 0, file, f"{where}/from", "a positive number with \"scale\": \"log\"", lo)
        return [_tidy(lo * (hi / lo) ** (i / (count - 1))) for i in range(count)]
    return [_tidy(lo + (hi - lo) * i / (count - 1)) for i in range(count)]


def set_text(value):
    """A value as `pvsim run --set PATH=VALUE` reads it: strings as they are, numbers and booleans as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def load_sweep(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise SweepError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise SweepError(f"{path}: not JSON: {e}")
    _expect(isinstance(doc, dict), path, "/", "an object", type(doc).__name__)
    _refuse_unknown(doc, ["$schema", "description", "scenario", "set", "parameters", "repeats", "first_seed",
                          "metrics", "plot", "backend"], "", path)
    _expect("scenario" in doc, path, "/", "a \"scenario\" (the base scenario file)", list(doc))
    _expect(isinstance(doc["scenario"], str), path, "/scenario", "a file name", doc["scenario"])
    scenario = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), doc["scenario"]))
    _expect(os.path.isfile(scenario), path, "/scenario", "an existing scenario file", doc["scenario"])
    fixed = doc.get("set", {})
    _expect(isinstance(fixed, dict), path, "/set", "an object of --set path: value", fixed)
    for k, v in fixed.items():
        _expect(isinstance(v, (str, int, float, bool)), path, f"/set/{k}", "a number, string or boolean", v)
    _expect(isinstance(doc.get("parameters"), dict) and doc["parameters"], path, "/parameters",
            "an object of --set path: values (at least one)", doc.get("parameters"))
    params = [(p, _values(spec, path, f"/parameters/{p}")) for p, spec in doc["parameters"].items()]
    for p, _ in params:
        _expect(p not in fixed, path, f"/parameters/{p}", "a path not also in \"set\"", p)
    repeats = doc.get("repeats", 1)
    _expect(isinstance(repeats, int) and not isinstance(repeats, bool) and 1 <= repeats <= 10000, path, "/repeats",
            "an integer in [1, 10000]", repeats)
    first_seed = doc.get("first_seed", 1)
    _expect(isinstance(first_seed, int) and not isinstance(first_seed, bool) and first_seed >= 0, path,
            "/first_seed", "a non-negative integer", first_seed)
    metrics = doc.get("metrics", DEFAULT_METRICS)
    _expect(isinstance(metrics, list) and metrics, path, "/metrics", "a non-empty list of JSON pointers", metrics)
    for i, m in enumerate(metrics):
        _expect(isinstance(m, str) and m.startswith("/"), path, f"/metrics/{i}",
                "a JSON pointer into results.json such as \"/jobs/*/iops\"", m)
    plot = doc.get("plot", {})
    _expect(isinstance(plot, dict), path, "/plot", "an object {\"x\", \"y\"}", plot)
    _refuse_unknown(plot, ["x", "y"], "/plot", path)
    names = [p for p, _ in params]
    plot_x = plot.get("x", names[0])
    _expect(plot_x in names, path, "/plot/x", "one of the parameters " + json.dumps(names), plot_x)
    plot_y = plot.get("y", metrics[0])
    _expect(plot_y in metrics, path, "/plot/y", "one of the metrics " + json.dumps(metrics), plot_y)
    backend = doc.get("backend", {})
    _expect(isinstance(backend, dict), path, "/backend", "an object {\"type\", ...}", backend)
    _refuse_unknown(backend, ["type", "jobs", "sshloginfile", "parallel_args", "chunk", "sbatch_args"], "/backend",
                    path)
    btype = backend.get("type", "local")
    _expect(btype in BACKENDS, path, "/backend/type", " or ".join(f"\"{b}\"" for b in BACKENDS), btype)
    jobs = backend.get("jobs", os.cpu_count() or 1)
    _expect(isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1, path, "/backend/jobs",
            "a positive integer", jobs)
    chunk = backend.get("chunk", 1)
    _expect(isinstance(chunk, int) and not isinstance(chunk, bool) and chunk >= 1, path, "/backend/chunk",
            "a positive integer (points per Slurm task)", chunk)
    for k in ("parallel_args", "sbatch_args"):
        v = backend.get(k, [])
        _expect(isinstance(v, list) and all(isinstance(a, str) for a in v), path, f"/backend/{k}",
                "a list of strings", v)
    ssh = backend.get("sshloginfile")
    if ssh is not None:
        _expect(isinstance(ssh, str), path, "/backend/sshloginfile", "a file name", ssh)
        ssh = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), ssh))
    return {"file": os.path.abspath(path), "scenario": scenario, "set": fixed, "parameters": params,
            "seeds": list(range(first_seed, first_seed + repeats)), "metrics": metrics,
            "plot": {"x": plot_x, "y": plot_y},
            "backend": {"type": btype, "jobs": jobs, "sshloginfile": ssh, "chunk": chunk,
                        "parallel_args": backend.get("parallel_args", []),
                        "sbatch_args": backend.get("sbatch_args", [])}}


def make_plan(sweep, pvsim):
    names = [p for p, _ in sweep["parameters"]]
    points = []
    for combo in itertools.product(*[v for _, v in sweep["parameters"]]):
        for seed in sweep["seeds"]:
            points.append({"id": f"{len(points):04d}", "parameters": dict(zip(names, combo)), "seed": seed})
    return {"sweep_file": sweep["file"], "scenario": sweep["scenario"], "pvsim": pvsim, "set": sweep["set"],
            "parameters": names, "metrics": sweep["metrics"], "plot": sweep["plot"], "points": points}


def point_command(plan, point, outdir):
    cmd = [plan["pvsim"], "run", "-q", plan["scenario"], "-o", outdir, "--seed", str(point["seed"])]
    for path, value in list(plan["set"].items()) + list(point["parameters"].items()):
        cmd += ["--set", f"{path}={set_text(value)}"]
    return cmd


def check_first_point(plan):
    """`pvsim check` at the first point: a path the scenario does not have, or a bad fixed setting, is the sweep
    file's fault (exit 2 before anything is written); a bad value at some other point is that point's failure."""
    cmd = [plan["pvsim"], "check", plan["scenario"]]
    for path, value in list(plan["set"].items()) + list(plan["points"][0]["parameters"].items()):
        cmd += ["--set", f"{path}={set_text(value)}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SweepError(f"{plan['sweep_file']}: the first point does not run: "
                         + (proc.stderr.strip() or proc.stdout.strip()))


# ---- one point ---------------------------------------------------------------------------------------------------

def point_dir(out, point):
    return os.path.join(out, "points", point["id"])


def is_finished(out, point):
    d = point_dir(out, point)
    try:
        with open(os.path.join(d, "point.json")) as f:
            same = json.load(f) == point
    except (OSError, ValueError):
        return False
    return same and os.path.isfile(os.path.join(d, "results.json"))


def run_point(plan, out, point):
    """Runs one point into points/NNNN (its results, or error.txt when pvsim failed). Returns (ok, message)."""
    final = point_dir(out, point)
    staging = f"{final}.running-{socket.gethostname()}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    cmd = point_command(plan, point, staging)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        rc, message = proc.returncode, (proc.stdout + proc.stderr).strip()
    except OSError as e:
        rc, message = 127, f"cannot run {cmd[0]}: {e.strerror}"
    if rc != 0:
        message = message or f"pvsim exited with status {rc}"
        with open(os.path.join(staging, "error.txt"), "w") as f:
            f.write(f"exit status {rc}\n$ {' '.join(cmd)}\n{message}\n")
    with open(os.path.join(staging, "point.json"), "w") as f:
        json.dump(point, f, indent=1)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(staging, final)
    return rc == 0, message


def worker_main(argv):
    """`sweep_driver.py point DIR ID...`, what GNU parallel and Slurm run. `--todo FILE --chunk C --task T` names the
    points T*C .. T*C+C-1 of the list in FILE instead (a Slurm array task). Exit 1 if a point failed."""
    ap = argparse.ArgumentParser(prog="sweep_driver.py point")
    ap.add_argument("dir")
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--todo")
    ap.add_argument("--chunk", type=int, default=1)
    ap.add_argument("--task", type=int)
    args = ap.parse_args(argv)
    with open(os.path.join(args.dir, "plan.json")) as f:
        plan = json.load(f)
    by_id = {p["id"]: p for p in plan["points"]}
    ids = list(args.ids)
    if args.todo:
        with open(args.todo) as f:
            todo = f.read().split()
        task = args.task if args.task is not None else int(os.environ["SLURM_ARRAY_TASK_ID"])
        ids += todo[task * args.chunk:(task + 1) * args.chunk]
    failed = 0
    for i in ids:
        ok, message = run_point(plan, args.dir, by_id[i])
        if not ok:
            failed += 1
            print(f"point {i} failed: {message}", file=sys.stderr)
    return 1 if failed else 0


# ---- backends ----------------------------------------------------------------------------------------------------

class Progress:
    """A bar with the ETA on a terminal; one line per point elsewhere (logs)."""

    def __init__(self, total):
        self.total, self.done, self.failed, self.start = total, 0, 0, time.time()
        self.tty = sys.stderr.isatty()

    def point_done(self, ok):
        self.done += 1
        self.failed += 0 if ok else 1
        elapsed = time.time() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        width = 30
        fill = int(width * self.done / self.total) if self.total else width
        failed = f", {self.failed} failed" if self.failed else ""
        text = f"{self.done}/{self.total} points{failed}, {elapsed:.1f} s, ETA {eta:.1f} s"
        if self.tty:
            print(f"\r[{'#' * fill}{'.' * (width - fill)}] {text}   ", end="", file=sys.stderr, flush=True)
            if self.done == self.total:
                print(file=sys.stderr)
        else:
            print(f"[sweep] {text}", file=sys.stderr, flush=True)


def run_local(plan, out, todo, backend):
    progress = Progress(len(todo))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=backend["jobs"])
    try:
        futures = [pool.submit(run_point, plan, out, p) for p in todo]
        for fut in concurrent.futures.as_completed(futures):
            ok, _ = fut.result()
            progress.point_done(ok)
    finally:  # on Ctrl-C, no new point starts (the running ones, interrupted too, are failed points)
        pool.shutdown(wait=True, cancel_futures=True)


def run_parallel(plan, out, todo, backend):
    exe = shutil.which("parallel")
    if not exe:
        raise SweepError("the parallel backend needs GNU parallel (Debian: apt-get install parallel)")
    cmd = [exe, "--will-cite", "--halt", "never", "--jobs", str(backend["jobs"]), "--joblog",
           os.path.join(out, "parallel.joblog")]
    if backend["sshloginfile"]:
        cmd += ["--sshloginfile", backend["sshloginfile"]]
    if sys.stderr.isatty():
        cmd += ["--bar"]
    cmd += backend["parallel_args"]
    cmd += [sys.executable, os.path.abspath(__file__), "point", os.path.abspath(out), ":::"] + [p["id"] for p in todo]
    # parallel's exit status counts the failed points; they are gathered from their folders.
    subprocess.run(cmd, stdout=subprocess.DEVNULL)


def run_slurm(plan, out, todo, backend):
    exe = shutil.which("sbatch")
    if not exe:
        raise SweepError("the slurm backend needs sbatch (Debian: apt-get install slurm-client)")
    sdir = os.path.abspath(os.path.join(out, "slurm"))
    os.makedirs(sdir, exist_ok=True)
    todo_file = os.path.join(sdir, "todo.txt")
    with open(todo_file, "w") as f:
        f.write("\n".join(p["id"] for p in todo) + "\n")
    tasks = (len(todo) + backend["chunk"] - 1) // backend["chunk"]
    script = os.path.join(sdir, "job.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                "#SBATCH --job-name=pvsim-sweep\n"
                f"#SBATCH --array=0-{tasks - 1}\n"
                f"#SBATCH --output={sdir}/task-%a.out\n"
                "#SBATCH --ntasks=1\n"
                f"#SBATCH --chdir={sdir}\n"
                f"exec {shlex.join([sys.executable, os.path.abspath(__file__), 'point', os.path.abspath(out)])} "
                f"--todo {shlex.quote(todo_file)} --chunk {backend['chunk']} --task \"$SLURM_ARRAY_TASK_ID\"\n")
    cmd = [exe, "--parsable", "--wait"] + backend["sbatch_args"] + [script]
    print(f"[sweep] sbatch: {tasks} array tasks of {backend['chunk']} point(s)", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job = ""
    try:
        job = proc.stdout.readline().strip().split(";")[0]  # --parsable prints the id when submitted
        if job:
            print(f"[sweep] Slurm job {job} submitted; waiting for it (squeue -j {job})", file=sys.stderr, flush=True)
        stdout, stderr = proc.communicate()
    except KeyboardInterrupt:  # the array goes with the sweep; the same command resumes it
        if job:
            subprocess.run(["scancel", job])
        proc.terminate()
        raise
    if not job:
        raise RuntimeError(f"sbatch failed (exit {proc.returncode}): {stderr.strip()}")
    print(f"[sweep] Slurm job {job} finished", file=sys.stderr, flush=True)


# ---- gathering ---------------------------------------------------------------------------------------------------

def expand(pointer, doc):
    """Every (pointer, value) a pointer with * wildcards names in doc (keys in sorted order)."""
    parts = pointer.split("/")[1:]
    found = []

    def walk(node, i, path):
        if i == len(parts):
            if isinstance(node, (int, float, str, bool)):
                found.append((path, node))
            return
        key = parts[i].replace("~1", "/").replace("~0", "~")
        if key == "*":
            if isinstance(node, dict):
                for k in sorted(node):
                    walk(node[k], i + 1, f"{path}/{k}")
            elif isinstance(node, list):
                for k in range(len(node)):
                    walk(node[k], i + 1, f"{path}/{k}")
        elif isinstance(node, dict) and key in node:
            walk(node[key], i + 1, f"{path}/{parts[i]}")
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            walk(node[int(key)], i + 1, f"{path}/{key}")

    walk(doc, 0, "")
    return found


def cell(value):
    """A metric as the CSV holds it: floats to the last digit (repr), booleans as JSON."""
    if isinstance(value, bool):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else value


def gather(plan, out):
    names = plan["parameters"]
    rows, failures, columns, origin = [], [], [], {}
    for point in plan["points"]:
        d = point_dir(out, point)
        values, status = {}, "missing"
        if is_finished(out, point):
            with open(os.path.join(d, "results.json")) as f:
                results = json.load(f)
            status = "ok"
            for m in plan["metrics"]:
                for col, v in expand(m, results):
                    if col not in origin:
                        origin[col] = m
                        columns.append(col)
                    values[col] = v
        elif os.path.isfile(os.path.join(d, "error.txt")):
            status = "failed"
            with open(os.path.join(d, "error.txt")) as f:
                failures.append((point, f.read().strip()))
        else:
            failures.append((point, "not run (the sweep was interrupted, or its worker died)"))
        rows.append((point, status, values))
    # Columns in the order of the metrics, each metric's expansions sorted: the same for every backend.
    columns.sort(key=lambda c: (plan["metrics"].index(origin[c]), c))
    for m in plan["metrics"]:
        if m not in origin.values() and any(s == "ok" for _, s, _ in rows):
            print(f"sweep: warning: the metric {m} names nothing in results.json", file=sys.stderr)
    csv_path = os.path.join(out, "sweep.csv")
    with open(csv_path + ".tmp", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["point"] + names + ["seed", "status"] + columns)
        for point, status, values in rows:
            w.writerow([point["id"]] + [set_text(point["parameters"][n]) for n in names] + [point["seed"], status]
                       + [cell(values[c]) if c in values else "" for c in columns])
    os.replace(csv_path + ".tmp", csv_path)
    with open(os.path.join(out, "failed.txt"), "w") as f:
        for point, message in failures:
            f.write(f"point {point['id']} {json.dumps(point['parameters'])} seed {point['seed']}:\n{message}\n\n")
    plot(plan, out, rows, [c for c in columns if origin[c] == plan["plot"]["y"]])
    return csv_path, failures


def plot(plan, out, rows, ycols):
    if not ycols:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ycols = ycols[:4]
    xname = plan["plot"]["x"]
    others = [n for n in plan["parameters"] if n != xname]
    xs = []
    for point, _, _ in rows:
        if point["parameters"][xname] not in xs:
            xs.append(point["parameters"][xname])
    numeric = all(_is_number(x) for x in xs)
    fig, axes = plt.subplots(1, len(ycols), figsize=(5.5 * len(ycols), 4.5), squeeze=False)
    for ax, col in zip(axes[0], ycols):
        lines = {}
        for point, status, values in rows:
            if status != "ok" or col not in values or not _is_number(values[col]):
                continue
            key = tuple(set_text(point["parameters"][n]) for n in others)
            lines.setdefault(key, {}).setdefault(xs.index(point["parameters"][xname]), []).append(values[col])
        for key, by_x in sorted(lines.items()):
            idx = sorted(by_x)
            x = [xs[i] if numeric else i for i in idx]
            mean = [sum(by_x[i]) / len(by_x[i]) for i in idx]
            lo = [m - min(by_x[i]) for m, i in zip(mean, idx)]
            hi = [max(by_x[i]) - m for m, i in zip(mean, idx)]
            label = ", ".join(f"{n.split('.')[-1]}={v}" for n, v in zip(others, key)) or "all"
            ax.errorbar(x, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)
        if not numeric:
            ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        ax.set_xlabel(xname)
        ax.set_ylabel(col)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{os.path.basename(plan['sweep_file'])}: mean over the seeds (bars: min-max)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "sweep.png"), dpi=110)
    plt.close(fig)


# ---- main --------------------------------------------------------------------------------------------------------

def main(argv):
    if argv and argv[0] == "point":
        return worker_main(argv[1:])
    ap = argparse.ArgumentParser(prog="pvsim sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweepfile")
    ap.add_argument("-o", "--output", help="result folder (default out/<sweep file name>)")
    ap.add_argument("--backend", choices=BACKENDS, help="overrides the sweep file's backend.type")
    ap.add_argument("-j", "--jobs", type=int, help="points at once (local, parallel; overrides backend.jobs)")
    ap.add_argument("--sshloginfile", help="parallel: run on the machines this file lists (GNU parallel's option)")
    ap.add_argument("--chunk", type=int, help="slurm: points per array task (overrides backend.chunk)")
    ap.add_argument("--pvsim", default=os.path.join(HERE, "..", "build", "pvsim"))
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    try:
        sweep = load_sweep(args.sweepfile)
        backend = sweep["backend"]
        if args.backend:
            backend["type"] = args.backend
        for opt, key in ((args.jobs, "jobs"), (args.chunk, "chunk")):
            if opt is not None:
                if opt < 1:
                    raise SweepError(f"--{key}: expected a positive integer, got {opt}")
                backend[key] = opt
        if args.sshloginfile:
            backend["sshloginfile"] = os.path.abspath(args.sshloginfile)
        if backend["sshloginfile"] and not os.path.isfile(backend["sshloginfile"]):
            raise SweepError(f"--sshloginfile: no such file {backend['sshloginfile']}")
        if backend["sshloginfile"] and backend["type"] != "parallel":
            raise SweepError("--sshloginfile is for the parallel backend")
        pvsim = os.path.abspath(args.pvsim)
        if not os.access(pvsim, os.X_OK):
            raise SweepError(f"no pvsim binary at {pvsim} (build it, or give --pvsim)")
        plan = make_plan(sweep, pvsim)
        check_first_point(plan)
        if backend["type"] == "parallel" and not shutil.which("parallel"):
            raise SweepError("the parallel backend needs GNU parallel (Debian: apt-get install parallel)")
        if backend["type"] == "slurm" and not shutil.which("sbatch"):
            raise SweepError("the slurm backend needs sbatch (Debian: apt-get install slurm-client)")
    except SweepError as e:
        print(f"pvsim sweep: error: {e}", file=sys.stderr)
        return 2
    out = args.output or os.path.join("out", os.path.splitext(os.path.basename(args.sweepfile))[0])
    os.makedirs(os.path.join(out, "points"), exist_ok=True)
    for name in os.listdir(os.path.join(out, "points")):  # what the workers of a killed sweep left half-written
        if ".running-" in name:
            shutil.rmtree(os.path.join(out, "points", name), ignore_errors=True)
    with open(os.path.join(out, "plan.json.tmp"), "w") as f:
        json.dump(plan, f, indent=1)
    os.replace(os.path.join(out, "plan.json.tmp"), os.path.join(out, "plan.json"))
    todo = [p for p in plan["points"] if not is_finished(out, p)]
    kept = len(plan["points"]) - len(todo)
    print(f"[sweep] {len(plan['points'])} points ({kept} already finished, {len(todo)} to run) on "
          f"{backend['type']}", file=sys.stderr, flush=True)
    if todo:
        try:
            run = {"local": run_local, "parallel": run_parallel, "slurm": run_slurm}[backend["type"]]
            run(plan, out, todo, backend)
        except KeyboardInterrupt:
            print(f"\npvsim sweep: interrupted; the same command resumes the sweep in {out}", file=sys.stderr)
            return 130
        except RuntimeError as e:
            print(f"pvsim sweep: error: {e}", file=sys.stderr)
            return 1
    csv_path, failures = gather(plan, out)
    for point, message in failures:
        print(f"pvsim sweep: point {point['id']} {json.dumps(point['parameters'])} seed {point['seed']} failed:\n"
              f"  " + message.replace("\n", "\n  "), file=sys.stderr)
    png = os.path.join(out, "sweep.png")
    print(f"sweep: {csv_path}" + (f", {png}" if os.path.exists(png) else "")
          + (f"; {len(failures)} of {len(plan['points'])} points failed (see {out}/failed.txt)" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
