#!/usr/bin/env python3
"""Turn a folder of ../shared/traces/xen-lab-tcg/ or qemu-lab-tcg/ (the first lab runs, kept as loose files) into a
capture bundle ("pvsim-bundle" version 1, see README.md here) that `pvsim validate --bundle` reads.

    /usr/bin/python3 analysis/capture/import_lab_traces.py SRC_DIR OUT_DIR [--physical-cores 2]

What the folders hold and the bundle needs:
- guest-info.txt: kernel, vCPUs, the mq layout (cpu_list, nr_tags), the scheduler line and /proc/interrupts at the
  start -> manifest devices, interrupts/start.txt.
- fio/<rw>_qd<N>_nj<M>.json -> fio_runs (the engine and options from fio's own job options).
- interrupts/<run>.txt: the queue lines of /proc/interrupts after each run. They are cumulative over the session, so
  the run order is the order of their totals, and each run's "before" is the previous run's "after".
- xenstore-ls-f.txt, dom0-blkparse-excerpt.txt (Xen) -> xen/, blktrace/.
- The folder's name gives what the traces' README says of the set-up: blkfront-max-queues-N (xen_blkfront max_queues
  N; xen_blkback max_queues 4), <aio>_q<N>[_iot] (QEMU aio=<aio>, num-queues=N, with an IOThread).
Facts that are not in the files (the host's cores, the machine's CPUs) come from ../shared/traces/README.md and are
written as such in the manifest's notes.
"""
import argparse
import json
import os
import re
import shutil
import sys


def fail(msg):
    print(f"import_lab_traces: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_guest_info(path):
    info = {"queues": [], "interrupts": []}
    in_irq = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if in_irq:
                info["interrupts"].append(line)
                continue
            if re.match(r"^\s+CPU0\b", line):
                in_irq = True
                info["interrupts"].append(line)
                continue
            m = re.match(r"^tag=(\S+) kernel=(\S+) nproc=(\d+)", line)
            if m:
                info["tag"], info["kernel"], info["nproc"] = m.group(1), m.group(2), int(m.group(3))
                continue
            m = re.match(r"^nr_hw_queues=(\d+)", line)
            if m:
                info["hw_queues"] = int(m.group(1))
                continue
            m = re.match(r"^/sys/block/(\w+)/mq/(\d+) cpu_list=(.*) nr_tags=(\d+)$", line)
            if m:
                info["device"] = m.group(1)
                info["queues"].append({"index": int(m.group(2)), "cpu_list": m.group(3).strip(),
                                       "nr_tags": int(m.group(4))})
                continue
            m = re.match(r"^scheduler=(.*?)\s+nr_requests=(\d+) size_sectors=(\d+)", line)
            if m:
                info["schedulers_available"] = m.group(1).strip()
                sel = re.search(r"\[(\S+)\]", m.group(1))
                info["scheduler"] = sel.group(1) if sel else m.group(1).strip()
                info["nr_requests"], info["size_sectors"] = int(m.group(2)), int(m.group(3))
    for key in ("kernel", "nproc", "hw_queues", "device"):
        if key not in info:
            fail(f"{path}: no '{key}' found (expected the lab's guest-info.txt)")
    info["queues"].sort(key=lambda q: q["index"])
    return info


def irq_total(path):
    total = 0
    with open(path) as f:
        for line in f:
            words = line.split()
            if words and words[0].endswith(":"):
                total += sum(int(w) for w in words[1:] if w.isdigit())
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--physical-cores", type=int, default=2,
                    help="cores of the machine that ran QEMU (2 for the shared traces: README)")
    a = ap.parse_args()
    src = os.path.abspath(a.src)
    name = os.path.basename(src.rstrip("/"))
    if not os.path.isfile(os.path.join(src, "guest-info.txt")):
        fail(f"{src}: no guest-info.txt (expected a folder of xen-lab-tcg/ or qemu-lab-tcg/)")
    if os.path.exists(a.out) and os.listdir(a.out):
        fail(f"{a.out}: exists and is not empty")
    info = parse_guest_info(os.path.join(src, "guest-info.txt"))
    xen = os.path.isfile(os.path.join(src, "xenstore-ls-f.txt"))
    out = a.out
    os.makedirs(os.path.join(out, "fio"), exist_ok=True)
    os.makedirs(os.path.join(out, "interrupts"), exist_ok=True)
    notes = [f"imported from {src} by analysis/capture/import_lab_traces.py"]
    with open(os.path.join(out, "interrupts", "start.txt"), "w") as f:
        f.write("\n".join(info["interrupts"]) + "\n")

    runs = []
    for fn in sorted(os.listdir(os.path.join(src, "fio"))):
        m = re.match(r"^(\w+?)_qd(\d+)_nj(\d+)\.json$", fn)
        if not m:
            notes.append(f"fio/{fn}: name not understood, skipped")
            continue
        path = os.path.join(src, "fio", fn)
        try:
            with open(path) as f:
                doc = json.load(f)
        except ValueError as e:
            notes.append(f"fio/{fn}: not JSON ({e}), skipped")
            continue
        opts = doc["jobs"][0].get("job options", {})
        base = fn[:-5]
        irq = os.path.join(src, "interrupts", base + ".txt")
        runs.append({"file": "fio/" + fn, "device": info["device"], "rw": m.group(1),
                     "ioengine": opts.get("ioengine", "libaio"), "iodepth": int(m.group(2)),
                     "numjobs": int(m.group(3)), "bs": opts.get("bs", "4k"),
                     "runtime_s": int(re.sub(r"\D", "", opts.get("runtime", "0")) or 0),
                     "direct": opts.get("direct", "0") == "1", "_src": path, "_irq": irq,
                     "_total": irq_total(irq) if os.path.isfile(irq) else None})
        fio_version = doc.get("fio version", "")
    if not runs:
        fail(f"{src}/fio: no fio result")
    # Run order: the cumulative interrupt counts grow run after run.
    if all(r["_total"] is not None for r in runs):
        runs.sort(key=lambda r: r["_total"])
        notes.append("run order taken from the cumulative interrupt counts; each run's interrupts_before is the "
                     "previous run's interrupts_after (the first's: the start of the session)")
    previous = "interrupts/start.txt"
    for r in runs:
        shutil.copyfile(r["_src"], os.path.join(out, r["file"]))
        if r["_total"] is not None:
            after = "interrupts/" + os.path.basename(r["file"])[:-5] + ".after.txt"
            shutil.copyfile(r["_irq"], os.path.join(out, after))
            r["interrupts_before"], r["interrupts_after"] = previous, after
            previous = after
        for k in ("_src", "_irq", "_total"):
            r.pop(k)

    dev = {"name": info["device"], "hw_queues": info["hw_queues"], "queues": info["queues"],
           "scheduler": info.get("scheduler"), "schedulers_available": info.get("schedulers_available"),
           "nr_requests": info.get("nr_requests"), "size_sectors": info.get("size_sectors")}
    manifest = {
        "format": "pvsim-bundle", "version": 1,
        "created": "2026-11-21T00:00:00+00:00",
        "tool": "pvsim analysis/capture/import_lab_traces.py 1",
        "vcpus": info["nproc"],
        "devices": [dev],
        "engines": sorted({r["ioengine"] for r in runs}),
        "fio": {"version": fio_version},
        "fio_runs": runs,
        "interrupts": {"before": "interrupts/start.txt", "after": previous},
        "host": {"physical_cores": a.physical_cores, "accel": "tcg"},
        "captured": [{"what": "guest-info", "file": "interrupts/start.txt"}],
        "not_captured": [],
        "notes": notes,
    }
    if xen:
        m = re.search(r"max-queues-(\d+)$", name)
        if not m:
            fail(f"{src}: a Xen folder is named blkfront-max-queues-N")
        os.makedirs(os.path.join(out, "xen"), exist_ok=True)
        shutil.copyfile(os.path.join(src, "xenstore-ls-f.txt"), os.path.join(out, "xen", "xenstore-ls-f.txt"))
        with open(os.path.join(out, "xen", "xenstore-ls-f.txt")) as f:
            vbd = re.search(r"/device/vbd/(\d+) =", f.read())
        if vbd:
            dev["xen_nodename"] = "device/vbd/" + vbd.group(1)
        manifest["system"] = {"role": "xen-domU", "virtualization": "xen", "kernel": info["kernel"],
                              "description": "Xen 4.17.7 PV domU nested in QEMU 7.2 TCG (xen-lab-tcg)"}
        manifest["host"]["machine_cpus"] = 4
        manifest["guests"] = [{"name": "dom0", "role": "xen-dom0", "vcpus": 2, "memory_mib": 1024},
                              {"name": "domU", "role": "xen-domU", "vcpus": info["nproc"], "memory_mib": 768}]
        manifest["xenstore"] = {"file": "xen/xenstore-ls-f.txt"}
        manifest["backend"] = {"driver": "xen-blkback", "max_queues": 4, "physical_device": "/dev/vdb",
                               "disk": {"file_size": "1G", "qemu_aio": "native", "num_queues": 2}}
        manifest["frontend"] = {"driver": "xen-blkfront", "max_queues": int(m.group(1))}
        bp = os.path.join(src, "dom0-blkparse-excerpt.txt")
        if os.path.isfile(bp):
            os.makedirs(os.path.join(out, "blktrace"), exist_ok=True)
            shutil.copyfile(bp, os.path.join(out, "blktrace", "dom0-vdb.blkparse.txt"))
            manifest["blkparse"] = {"file": "blktrace/dom0-vdb.blkparse.txt", "complete": False}
        notes.append("host (2 physical cores, QEMU -smp 4), dom0 (2 vCPUs) and the module parameters "
                     "(xen_blkback max_queues=4) as ../shared/traces/README.md states them")
    else:
        m = re.match(r"^(native|iouring|io_uring|threads)_q(\d+)(_iot)?$", name)
        if not m:
            fail(f"{src}: a QEMU folder is named <aio>_q<N>[_iot]")
        aio = "io_uring" if m.group(1) in ("iouring", "io_uring") else m.group(1)
        manifest["system"] = {"role": "kvm-guest", "virtualization": "qemu", "kernel": info["kernel"],
                              "description": "Linux guest under QEMU 7.2 TCG, virtio-blk-pci (qemu-lab-tcg)"}
        manifest["host"]["machine_cpus"] = info["nproc"]
        manifest["guests"] = [{"name": "guest", "role": "kvm-guest", "vcpus": info["nproc"], "memory_mib": 2048}]
        manifest["qemu"] = {"aio": aio, "num_queues": int(m.group(2)), "iothreads": 1 if m.group(3) else 0,
                            "cache_direct": True}
        notes.append("QEMU's aio, num-queues and IOThread from the folder's name; the host's 2 cores from "
                     "../shared/traces/README.md")
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"bundle written: {out} ({len(runs)} fio runs)")


if __name__ == "__main__":
    main()
