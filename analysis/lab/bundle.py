#!/usr/bin/python3
"""pvsim lab: assemble a "pvsim-bundle" v1 directory from what a lab run brought back.

Usage: bundle.py META_JSON RESULTS_DIR OUT_DIR

META_JSON is written by lab.sh (variant, options, host facts, timings). RESULTS_DIR is the unpacked results disk:
for "virtio" the guest's /out; for "xen-blk"/"xen-net" dom0's /out with the domU's /out in domU/. The bundle
layout and manifest follow analysis/capture/README.md, extended with host, guests, lab (and, for Xen, xen_version,
xenstore, backend, frontend, blkparse, dom0, vifs, net_runs). Every path named in the manifest is checked to exist
and every fio / iperf3 JSON to parse; exit 1 if not.
"""
import datetime
import json
import os
import re
import shutil
import sys

TOOL = "pvsim analysis/lab/lab.sh 1"


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def copytree(src, dst):
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=True)


def parse_interrupts_names(path):
    """{irq name (last column): [per-cpu counts]} of a /proc/interrupts copy."""
    res = {}
    text = read(path, "") or ""
    lines = text.splitlines()
    if not lines:
        return res
    ncpu = len(lines[0].split())
    for line in lines[1:]:
        parts = line.split()
        if not parts or not parts[0].endswith(":"):
            continue
        counts = []
        for p in parts[1:1 + ncpu]:
            if p.isdigit():
                counts.append(int(p))
        name = parts[-1]
        res[f"{parts[0][:-1]} {name}"] = counts
    return res


def xenstore_keys(path):
    keys = {}
    for line in (read(path, "") or "").splitlines():
        m = re.match(r'^(\S+) = "(.*)"', line)
        if m:
            keys[m.group(1)] = m.group(2)
    return keys


def main():
    meta_path, res, out = sys.argv[1:4]
    with open(meta_path) as f:
        meta = json.load(f)
    variant = meta["variant"]
    xen = variant.startswith("xen-")
    g = os.path.join(res, "domU") if xen else res  # the guest that ran fio / iperf3
    os.makedirs(out, exist_ok=True)
    captured, not_captured, notes = [], [], []

    def got(what, path):
        captured.append({"what": what, "file": path})

    def missed(what, why):
        not_captured.append({"what": what, "why": why})

    # ---- copy the guest's files
    for d in ("fio", "interrupts", "sysfs", "system", "net"):
        copytree(os.path.join(g, d), os.path.join(out, d))
    copytree(os.path.join(g, "params"), os.path.join(out, "params", "guest"))
    copytree(os.path.join(g, "logs"), os.path.join(out, "logs"))
    if os.path.exists(os.path.join(g, "interrupts-at-start.txt")):
        shutil.copy(os.path.join(g, "interrupts-at-start.txt"), os.path.join(out, "interrupts", "at-start.txt"))
    copytree(os.path.join(res, "logs"), os.path.join(out, "logs"))
    copytree(os.path.join(res, "qemu"), os.path.join(out, "qemu"))
    if xen:
        copytree(os.path.join(res, "xen"), os.path.join(out, "xen"))
        copytree(os.path.join(res, "dom0"), os.path.join(out, "dom0"))
        if os.path.isdir(os.path.join(res, "blktrace")):
            copytree(os.path.join(res, "blktrace"), os.path.join(out, "blktrace"))

    # ---- devices (blk-mq layout from sysfs)
    devices = []
    sysfs = os.path.join(out, "sysfs")
    if os.path.isdir(sysfs):
        for name in sorted(os.listdir(sysfs)):
            base = f"sysfs/{name}"
            mq = os.path.join(sysfs, name, "mq")
            if not os.path.isdir(mq):
                continue
            queues = []
            for q in sorted(os.listdir(mq), key=int):
                queues.append({"index": int(q), "cpu_list": read(f"{out}/{base}/mq/{q}/cpu_list", ""),
                               "nr_tags": int(read(f"{out}/{base}/mq/{q}/nr_tags", "0"))})
            sched = read(f"{out}/{base}/queue/scheduler")
            active = sched.split("[", 1)[1].split("]", 1)[0] if sched and "[" in sched else sched
            dev = {"name": name, "hw_queues": len(queues), "queues": queues, "scheduler": active,
                   "schedulers_available": sched, "sysfs": base}
            nr = read(f"{out}/{base}/queue/nr_requests")
            if nr is not None:
                dev["nr_requests"] = int(nr)
            size = read(f"{out}/{base}/size_sectors")
            if size is not None:
                dev["size_sectors"] = int(size)
            node = read(f"{out}/{base}/xen_nodename")
            if node is not None:
                dev["xen_nodename"] = node
            devices.append(dev)
            got(f"sysfs {name}", base)

    # ---- fio runs
    runs = []
    for line in (read(os.path.join(g, "runs.txt"), "") or "").splitlines():
        name, rw, eng, qd, nj, bs, rt, ramp, direct, dev = line.split("|")
        f = f"fio/{name}.json"
        try:
            with open(os.path.join(out, f)) as fh:
                json.load(fh)
        except (OSError, ValueError) as e:
            missed(f"fio {name}", f"no valid fio JSON ({e.__class__.__name__}; see logs/{name}.log)")
            continue
        r = {"file": f, "device": dev, "rw": rw, "ioengine": eng, "iodepth": int(qd), "numjobs": int(nj), "bs": bs,
             "runtime_s": int(rt), "ramp_s": int(ramp), "direct": direct == "1",
             "interrupts_before": f"interrupts/{name}.before.txt", "interrupts_after": f"interrupts/{name}.after.txt"}
        if os.path.exists(os.path.join(out, "logs", f"{name}.log")):
            r["log"] = f"logs/{name}.log"
        if xen:
            for side in ("before", "after"):
                p = f"dom0/interrupts/{name}.{side}.txt"
                if os.path.exists(os.path.join(out, p)):
                    r[f"dom0_interrupts_{side}"] = p
        runs.append(r)

    # ---- system and guests
    guest_kernel = read(os.path.join(out, "system", "uname_r.txt"), "")
    guest_vcpus = int(read(os.path.join(out, "system", "nproc.txt"), "0") or 0)
    fio_version = read(os.path.join(out, "system", "fio_version.txt"), "")
    opts = meta["options"]
    host = {"physical_cores": meta["physical_cores"], "accel": meta["accel"], "kvm_probe": meta["kvm_probe"],
            "machine_cpus": meta["machine_cpus"], "machine_memory_mib": meta["machine_memory_mib"],
            "qemu_version": meta["qemu_version"]}
    if xen:
        host["qemu_cmdline_file"] = "qemu/cmdline.txt"
        dom0_kernel = read(os.path.join(out, "dom0", "uname_r.txt"), "")
        guests = [
            {"name": "dom0", "role": "xen-dom0", "vcpus": int(read(os.path.join(out, "dom0", "nproc.txt"), "0")),
             "memory_mib": meta["dom0_memory_mib"], "kernel": dom0_kernel},
            {"name": "domU", "role": "xen-domU", "vcpus": guest_vcpus, "memory_mib": meta["domU_memory_mib"],
             "kernel": guest_kernel},
        ]
    else:
        guests = [{"name": "guest", "role": "kvm-guest", "vcpus": guest_vcpus,
                   "memory_mib": meta["guest_memory_mib"], "kernel": guest_kernel}]

    # ---- timings: build steps, then the guest's steps (each lasts until the next one is printed)
    timings = {}
    for name, s in meta["build_timings"]:
        timings[name] = s
    tl = meta["timeline"]
    for i, (text, t) in enumerate(tl[:-1]):
        key = text.strip()
        k, n = key, 2
        while k in timings:
            k = f"{key} #{n}"
            n += 1
        timings[k] = tl[i + 1][1] - t
    timings["total"] = meta["total_s"]

    accel_txt = ("software CPU emulation (QEMU TCG): timings are those of emulated CPUs, 10-100x slower than "
                 "hardware" if meta["accel"] == "tcg" else "hardware virtualization (KVM)")
    m = {
        "format": "pvsim-bundle",
        "version": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tool": TOOL,
    }
    if variant == "virtio":
        m["system"] = {"role": "kvm-guest", "virtualization": "qemu", "kernel": guest_kernel,
                       "description": f"pvsim lab: Linux {guest_kernel} guest under {meta['qemu_version']} "
                                      f"({accel_txt}); virtio-blk-pci num-queues={opts['queues']} on a raw file "
                                      f"(aio={opts['aio']}, cache.direct=on, iothreads={opts['iothreads']}); "
                                      f"fio in the guest on the raw disk"}
    else:
        what = "fio in the domU on xvda (xen-blkfront -> dom0 xen-blkback -> virtio disk /dev/vdb -> raw file)" \
            if variant == "xen-blk" else "iperf3 from the domU to dom0 over a multi-queue vif (xen-netfront -> xen-netback)"
        m["system"] = {"role": "xen-domU", "virtualization": "xen", "kernel": guest_kernel,
                       "description": f"pvsim lab: Xen {meta['xen_package_version']} nested in {meta['qemu_version']} "
                                      f"({accel_txt}), PV dom0 and PV domU (Linux {guest_kernel}); {what}"}
    m["vcpus"] = guest_vcpus
    m["cpu"] = {"nproc": guest_vcpus}
    m["devices"] = devices
    m["engines"] = sorted({r["ioengine"] for r in runs})
    m["fio"] = {"version": fio_version}
    m["fio_runs"] = runs
    m["interrupts"] = {"before": "interrupts/before.txt", "after": "interrupts/after.txt"}
    m["host"] = host
    m["guests"] = guests
    m["lab"] = {"variant": variant, "options": opts, "timings_s": timings, "cache": meta["cache"],
                "timeline": tl, "kernel_abi": meta["kernel_abi"]}

    # ---- variant-specific facts
    if variant == "virtio":
        m["qemu"] = {"cmdline_file": "qemu/cmdline.txt", "aio": opts["aio"], "num_queues": opts["queues"],
                     "iothreads": opts["iothreads"], "cache_direct": True, "data_file": meta["data_file"],
                     "data_file_size": meta["data_file_size"]}
        got("qemu cmdline", "qemu/cmdline.txt")
        gp = os.path.join(out, "params", "guest", "virtio_blk")
        if os.path.isdir(gp):
            got("virtio_blk module parameters", "params/guest/virtio_blk")
    if xen:
        info = {}
        for line in (read(os.path.join(out, "xen", "xl-info.txt"), "") or "").splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                info[k.strip()] = v.strip()
        if "xen_major" in info:
            m["xen_version"] = f"{info['xen_major']}.{info['xen_minor']}{info.get('xen_extra', '')}"
        m["xen_package"] = meta["xen_package_version"]
        got("xl info", "xen/xl-info.txt")
        xs = "xen/xenstore-ls-f.txt"
        if os.path.exists(os.path.join(out, xs)) and os.path.getsize(os.path.join(out, xs)) > 0:
            m["xenstore"] = {"file": xs, "full_dump": "xen/xenstore-ls-f.full.txt"}
            got("xenstore", xs)
        else:
            missed("xenstore", "the dump is missing or has no vbd/vif key")
        keys = xenstore_keys(os.path.join(out, "xen", "xenstore-ls-f.full.txt"))

        def param(side, mod, p):
            base = os.path.join(out, "dom0", "params", mod) if side == "dom0" else os.path.join(out, "params", "guest", mod)
            return read(os.path.join(base, p))

        def as_int(v):
            try:
                return int(v)
            except (TypeError, ValueError):
                return v

        def as_bool(v):
            return None if v is None else v in ("Y", "1", "y")

        m["dom0"] = {"interrupts_before": "dom0/interrupts/before.txt", "interrupts_after": "dom0/interrupts/after.txt",
                     "module_parameters": "dom0/params", "vcpus": guests[0]["vcpus"], "kernel": guests[0]["kernel"]}
        domid = read(os.path.join(out, "xen", "domU_domid.txt"), "")
        if variant == "xen-blk":
            fe = f"/local/domain/{domid}/device/vbd/51712"
            be = f"/local/domain/0/backend/vbd/{domid}/51712"
            cmd_fe = {}
            for w in (read(os.path.join(out, "system", "cmdline.txt"), "") or "").split():
                if w.startswith("xen_blkfront."):
                    k, v = w[len("xen_blkfront."):].split("=", 1)
                    cmd_fe[k] = as_int(v)
            m["backend"] = {
                "driver": "xen-blkback",
                "max_queues": as_int(param("dom0", "xen_blkback", "max_queues")),
                "max_ring_page_order": as_int(param("dom0", "xen_blkback", "max_ring_page_order")),
                "feature_persistent": as_bool(param("dom0", "xen_blkback", "feature_persistent")),
                "module_parameters": "dom0/params/xen_blkback",
                "physical_device": keys.get(f"{be}/physical-device-path", "/dev/vdb"),
                "physical_device_majmin": keys.get(f"{be}/physical-device"),
                "disk": {"file": meta["data_file"], "file_size": meta["data_file_size"], "qemu_aio": "native",
                         "cache_direct": True, "num_queues": guests[0]["vcpus"]},
            }
            m["frontend"] = {
                "driver": "xen-blkfront",
                "max_queues": as_int(param("domU", "xen_blkfront", "max_queues")),
                "max_ring_page_order": as_int(param("domU", "xen_blkfront", "max_ring_page_order")),
                "feature_persistent": as_bool(param("domU", "xen_blkfront", "feature_persistent")),
                "module_parameters": "params/guest/xen_blkfront",
                "kernel_cmdline": cmd_fe,
            }
            nq = keys.get(f"{fe}/multi-queue-num-queues")
            m["negotiated"] = {
                "num_queues": int(nq) if nq else (1 if f"{fe}/ring-ref" in keys else None),
                "ring_page_order": as_int(keys.get(f"{fe}/ring-page-order", "0")),
                "backend_max_queues": as_int(keys.get(f"{be}/multi-queue-max-queues")),
                "backend_max_ring_page_order": as_int(keys.get(f"{be}/max-ring-page-order")),
                "feature_persistent": keys.get(f"{fe}/feature-persistent") == "1"
                and keys.get(f"{be}/feature-persistent") == "1",
            }
            st = (read(os.path.join(out, "blktrace", "status.txt"), "") or "").split()
            bp = "blktrace/dom0-vdb.blkparse.txt"
            if st and os.path.exists(os.path.join(out, bp)):
                m["blkparse"] = {"file": bp, "complete": st[0] == "complete", "lines": int(st[1]),
                                 "summary": "blktrace/summary.txt",
                                 "content": "full blkparse text" if st[0] == "complete" else
                                 "head and tail of the blkparse text (the middle is cut, a line says how much)",
                                 "device": m["backend"]["physical_device"], "side": "dom0",
                                 "covers": "the whole domU session (started before xl create); logs/run-times.txt "
                                           "has dom0's wall-clock time of each run's begin/end"}
                got("blkparse", bp)
            else:
                missed("blkparse", read(os.path.join(out, "blktrace", "failed.txt"), "blktrace produced nothing"))
            notes.append("xenstore: the vbd keys (backend and frontend) as `xenstore-ls -f` prints them in dom0, "
                         "taken once the frontend reached state 4")
        else:
            fe = f"/local/domain/{domid}/device/vif/0"
            be = f"/local/domain/0/backend/vif/{domid}/0"
            queues_txt = (read(os.path.join(out, "sysfs", "eth0", "queues.txt"), "") or "").split()
            nq = keys.get(f"{fe}/multi-queue-num-queues")
            m["vifs"] = [{
                "name": "eth0", "hw_queues": int(nq) if nq else len([q for q in queues_txt if q.startswith("tx-")]),
                "xen_nodename": read(os.path.join(out, "sysfs", "eth0", "xen_nodename"), "device/vif/0"),
                "frontend_max_queues": as_int(param("domU", "xen_netfront", "max_queues")),
                "backend_max_queues": as_int(param("dom0", "xen_netback", "max_queues")),
                "backend_advertised_max_queues": as_int(keys.get(f"{be}/multi-queue-max-queues")),
                "guest_queues": queues_txt, "sysfs": "sysfs/eth0", "backend_name": f"vif{domid}.0",
            }]
            net_runs = []
            for line in (read(os.path.join(g, "net_runs.txt"), "") or "").splitlines():
                name, s, dur = line.split("|")
                f = f"net/{name}.json"
                try:
                    with open(os.path.join(out, f)) as fh:
                        j = json.load(fh)
                    bps = j.get("end", {}).get("sum_received", {}).get("bits_per_second")
                    if "error" in j:
                        raise ValueError(j["error"])
                except (OSError, ValueError) as e:
                    missed(f"iperf3 {name}", f"no valid iperf3 JSON ({e})")
                    continue
                r = {"file": f, "streams": int(s), "direction": "domU-to-dom0", "duration_s": int(dur),
                     "bits_per_second": bps,
                     "interrupts_before": f"interrupts/{name}.before.txt",
                     "interrupts_after": f"interrupts/{name}.after.txt"}
                for side in ("before", "after"):
                    p = f"dom0/interrupts/{name}.{side}.txt"
                    if os.path.exists(os.path.join(out, p)):
                        r[f"dom0_interrupts_{side}"] = p
                net_runs.append(r)
            m["net_runs"] = net_runs
            m["iperf3"] = {"version": read(os.path.join(out, "system", "iperf3_version.txt"), "")}
            notes.append("xen-net: no fio runs (fio_runs is empty); the measurements are net_runs (iperf3 -J, the "
                         "domU is the client and sends to dom0's iperf3 server on the vif's point-to-point link)")
            notes.append("xenstore: the vif keys (backend and frontend) as `xenstore-ls -f` prints them in dom0")
        if meta.get("guest_failed"):
            notes.append(f"guest reported: {meta['guest_failed']}")
        notes.append("the domU's files travelled over its Xen console (base64 tar.gz with an md5, sent twice) to "
                     "dom0, which wrote everything to a raw results disk that the host read after QEMU exited; "
                     "logs/extract.log says which copy was used")
    else:
        notes.append("the guest wrote its files as a tar to a second raw disk (serial pvsimio) that the host read "
                     "after QEMU exited; the console carried only progress markers")

    if meta["accel"] == "tcg":
        notes.append("accel tcg: every CPU is emulated in software on %d host cores; the drivers, queues, "
                     "negotiation and interrupt routing are real, the timings are not those of hardware"
                     % meta["physical_cores"])
    got("interrupts", "interrupts/before.txt")
    m["captured"] = captured
    m["not_captured"] = not_captured
    m["notes"] = notes

    # ---- validate: every path named exists; every JSON parses
    path_keys = {"file", "sysfs", "interrupts_before", "interrupts_after", "before", "after", "cmdline_file",
                 "log", "full_dump", "summary", "module_parameters", "qemu_cmdline_file", "dom0_interrupts_before",
                 "dom0_interrupts_after"}
    problems = []

    def walk(o, where):
        if isinstance(o, dict):
            for k, v in o.items():
                if k in path_keys and isinstance(v, str) and not v.startswith("/"):
                    if not os.path.exists(os.path.join(out, v)):
                        problems.append(f"{where}/{k}: {v} does not exist")
                walk(v, f"{where}/{k}")
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{where}/{i}")

    walk({k: v for k, v in m.items() if k != "lab"}, "")
    for r in runs:
        with open(os.path.join(out, r["file"])) as fh:
            json.load(fh)
    if variant != "xen-net" and not runs:
        problems.append("no fio run produced a valid JSON")
    if xen and "xenstore" not in m:
        problems.append("no xenstore dump")
    with open(os.path.join(out, "manifest.json.tmp"), "w") as fh:
        json.dump(m, fh, indent=2)
        fh.write("\n")
    os.replace(os.path.join(out, "manifest.json.tmp"), os.path.join(out, "manifest.json"))
    print(f"manifest: {len(runs)} fio runs, {len(devices)} device(s), {len(captured)} captured, "
          f"{len(not_captured)} not captured")
    for p in problems:
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
