#!/usr/bin/python3
"""`pvsim sweep`, run as users run it (processes, files), one behaviour per ctest (tests/CMakeLists.txt).

Usage: /usr/bin/python3 tests/sweep/sweep_test.py PVSIM_BINARY TEST_NAME
Exit 0 passed, 1 failed, 77 skipped (with the reason). The 20-point sweep is scenarios/sweeps/mm1-20.json (0.1 s runs).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SWEEP20 = os.path.join(SRC, "scenarios", "sweeps", "mm1-20.json")


class Skip(Exception):
    pass


def sweep(pvsim, *args, **kw):
    proc = subprocess.run([pvsim, "sweep", *args], capture_output=True, text=True, **kw)
    return proc.returncode, proc.stdout + proc.stderr


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(what + (f"\n{detail}" if detail else ""))


def read(path):
    with open(path) as f:
        return f.read()


def finished_points(out):
    """Points whose results.json is there: what a resumed sweep keeps."""
    d = os.path.join(out, "points")
    if not os.path.isdir(d):
        return set()
    return {p for p in os.listdir(d)
            if ".running-" not in p and os.path.isfile(os.path.join(d, p, "results.json"))}  # not a staging folder


def write_sweep(tmp, doc):
    path = os.path.join(tmp, "s.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def test_local_and_parallel_write_the_same_csv(pvsim, tmp):
    """The same 20-point sweep on the local backend and on GNU parallel: one folder per point, the same CSV."""
    if not shutil.which("parallel"):
        raise Skip("GNU parallel is not installed (apt-get install parallel; .ci/setup installs it)")
    rc, text = sweep(pvsim, SWEEP20, "--backend", "local", "-j", "2", "-o", f"{tmp}/local")
    check(rc == 0, f"local sweep exited {rc}", text)
    rc, text = sweep(pvsim, SWEEP20, "--backend", "parallel", "-j", "2", "-o", f"{tmp}/parallel")
    check(rc == 0, f"parallel sweep exited {rc}", text)
    local, par = read(f"{tmp}/local/sweep.csv"), read(f"{tmp}/parallel/sweep.csv")
    rows = local.splitlines()
    print(f"local: {len(rows) - 1} rows; parallel: {len(par.splitlines()) - 1} rows; expected 20 each, identical")
    check(len(rows) == 21, "expected a header and 20 rows", local)
    check(all(",ok," in r for r in rows[1:]), "every point ok", local)
    check(rows[0].startswith("point,components.arrivals.rate_iops,components.server.servers,seed,status,"
                             "/jobs/arrivals/iops"), "parameters, seed, status, then the metrics", rows[0])
    check(local == par, "the two backends' CSVs differ", f"local:\n{local}\nparallel:\n{par}")
    check(len(finished_points(f"{tmp}/parallel")) == 20, "one result folder per point")
    with open(f"{tmp}/parallel/sweep.png", "rb") as f:
        check(f.read(4)[1:4] == b"PNG", "a PNG plot")


def test_resume_after_a_killed_sweep_reruns_only_the_missing_points(pvsim, tmp):
    """Kill a sweep (its whole process group, as a lost session would) while it runs; the same command again runs
    only the points without results, and the CSV is the one an uninterrupted sweep writes."""
    out = f"{tmp}/killed"
    proc = subprocess.Popen([pvsim, "sweep", SWEEP20, "--backend", "local", "-j", "1", "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 30
    while len(finished_points(out)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = finished_points(out)
    mtimes = {p: os.stat(f"{out}/points/{p}/results.json").st_mtime_ns for p in kept}
    print(f"killed with {len(kept)} of 20 points finished; expected the rerun to run the other {20 - len(kept)}")
    check(0 < len(kept) < 20, f"the kill should land mid-sweep ({len(kept)} finished)")
    rc, text = sweep(pvsim, SWEEP20, "--backend", "local", "-j", "2", "-o", out)
    check(rc == 0, f"resumed sweep exited {rc}", text)
    check(f"({len(kept)} already finished, {20 - len(kept)} to run)" in text, "the rerun's count of points", text)
    for p in kept:
        check(os.stat(f"{out}/points/{p}/results.json").st_mtime_ns == mtimes[p], f"point {p} was run again")
    check(not [n for n in os.listdir(f"{out}/points") if ".running-" in n], "half-written point folders left")
    rc, text = sweep(pvsim, SWEEP20, "--backend", "local", "-j", "2", "-o", f"{tmp}/whole")
    check(rc == 0, f"uninterrupted sweep exited {rc}", text)
    check(read(f"{out}/sweep.csv") == read(f"{tmp}/whole/sweep.csv"), "resumed CSV differs from an uninterrupted one")


def test_a_failing_point_is_reported_and_the_others_finish(pvsim, tmp):
    """One value pvsim refuses (servers = 0): that point's error is reported, exit 1, the other points ran; fixed,
    the same command reruns only the failed point."""
    doc = json.loads(read(SWEEP20))
    doc["scenario"] = os.path.join(SRC, "scenarios", "mm1.json")
    doc["parameters"] = {"components.server.servers": [1, 0, 2]}
    doc["repeats"] = 1
    del doc["plot"]
    path = write_sweep(tmp, doc)
    out = f"{tmp}/out"
    rc, text = sweep(pvsim, path, "-j", "2", "-o", out)
    print(f"exit {rc} (expected 1); output:\n{text}")
    check(rc == 1, "a failed point makes the sweep exit 1")
    check("point 0001" in text and "/components/server/servers" in text, "the failed point and pvsim's error", text)
    rows = read(f"{out}/sweep.csv").splitlines()
    status = rows[0].split(",").index("status")
    check([r.split(",")[status] for r in rows[1:]] == ["ok", "failed", "ok"], "statuses in the CSV", "\n".join(rows))
    check(finished_points(out) == {"0000", "0002"}, "the other points finished")
    check("servers" in read(f"{out}/points/0001/error.txt"), "error.txt in the failed point's folder")
    doc["parameters"] = {"components.server.servers": [1, 3, 2]}
    path = write_sweep(tmp, doc)
    rc, text = sweep(pvsim, path, "-j", "2", "-o", out)
    check(rc == 0 and "(2 already finished, 1 to run)" in text, "rerun runs only the changed point", text)


def test_bad_sweep_files_exit_2_and_write_nothing(pvsim, tmp):
    """An unknown key (with the nearest known one), a bad range, a path the scenario lacks: exit 2, no folder."""
    base = {"scenario": os.path.join(SRC, "scenarios", "mm1.json"), "set": {"duration": "0.1s", "warmup": "10ms"},
            "parameters": {"components.server.servers": [1, 2]}}
    cases = [
        ({"repeat": 2}, ["/repeat", "did you mean 'repeats'"]),
        ({"backend": {"type": "local", "job": 2}}, ["/backend/job", "did you mean 'jobs'"]),
        ({"backend": {"type": "pbs"}}, ["/backend/type", "\"slurm\""]),
        ({"parameters": {"components.server.servers": {"from": 4, "to": 1, "step": 1}}},
         ["/parameters/components.server.servers/to"]),
        ({"parameters": {"components.server.servers": []}}, ["/parameters/components.server.servers", "non-empty"]),
        ({"parameters": {"components.server.no_such_key": [1]}}, ["no_such_key"]),
        ({"metrics": ["jobs.iops"]}, ["/metrics/0", "JSON pointer"]),
        ({"plot": {"x": "duration"}}, ["/plot/x"]),
    ]
    for i, (change, expected) in enumerate(cases):
        doc = dict(base, **change)
        path = write_sweep(tmp, doc)
        out = f"{tmp}/out{i}"
        rc, text = sweep(pvsim, path, "-o", out)
        print(f"{json.dumps(change)}: exit {rc} (expected 2): {text.strip()}")
        check(rc == 2, f"exit {rc} for {change}", text)
        for e in expected:
            check(e in text, f"the message should say {e!r}", text)
        check(not os.path.exists(out), f"{out} written for a bad sweep file")
    rc, text = sweep(pvsim, f"{tmp}/no-such.json", "-o", f"{tmp}/x")
    check(rc == 2 and "cannot read" in text, "a missing sweep file", text)
    rc, text = sweep(pvsim, SWEEP20, "--backend", "pbs", "-o", f"{tmp}/x")
    check(rc == 2, "an unknown --backend", text)


TESTS = {
    "LocalAndParallelWriteTheSameCsv": test_local_and_parallel_write_the_same_csv,
    "ResumeAfterAKilledSweepRerunsOnlyTheMissingPoints": test_resume_after_a_killed_sweep_reruns_only_the_missing_points,
    "AFailingPointIsReportedAndTheOthersFinish": test_a_failing_point_is_reported_and_the_others_finish,
    "BadSweepFilesExitWith2AndWriteNothing": test_bad_sweep_files_exit_2_and_write_nothing,
}


def main(argv):
    if len(argv) != 2 or argv[1] not in TESTS:
        print(f"usage: sweep_test.py PVSIM_BINARY {{{','.join(TESTS)}}}", file=sys.stderr)
        return 2
    pvsim, name = os.path.abspath(argv[0]), argv[1]
    tmp = tempfile.mkdtemp(prefix="pvsim-sweep-test-")
    try:
        TESTS[name](pvsim, tmp)
    except Skip as e:
        print(f"SKIPPED: {e}")
        return 77
    except AssertionError as e:
        print(f"FAILED: {e}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
