#!/usr/bin/env bash
# pvsim lab test: builds (or reuses the cached) lab, runs the smallest nested-Xen lab (xen-blk --quick: one domU,
# one 3 s fio randread qd16 job on xvda served by dom0's xen-blkback), checks the bundle and feeds it to
# `pvsim validate --bundle`.
#
# Usage: tests/lab/lab_test.sh PATH/TO/pvsim
# Environment: PVSIM_LAB_SKIP_VALIDATE=1 skips the `pvsim validate` step; PVSIM_LAB_CACHE is the lab's build cache
# (default ~/.cache/pvsim-lab); PVSIM_LAB_KEEP=1 keeps the temporary directory.
# Needs root, Debian's package registry (first run: about 2.5 GB downloaded and built, ~1 min) and ~5 minutes under
# software CPU emulation. Exit 0 when every check passes, 1 otherwise.
set -euo pipefail

pvsim=${1:-}
[[ -n $pvsim ]] || { echo "usage: $0 PATH/TO/pvsim" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
lab=$root/analysis/lab/lab.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvsim-lab-test.XXXXXX")
if [[ ${PVSIM_LAB_KEEP:-0} != 1 ]]; then trap 'rm -rf "$tmp"' EXIT; fi
bundle=$tmp/bundle
passed=0 failed=0
check() { # check DESCRIPTION CMD...
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
    passed=$((passed + 1))
  else
    echo "FAILED: $what"
    failed=$((failed + 1))
  fi
}
finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
  exit $?
}

echo "running: $lab xen-blk --quick --out $bundle"
if ! "$lab" xen-blk --quick --out "$bundle"; then
  echo "FAILED: lab.sh xen-blk --quick"
  failed=$((failed + 1))
  finish
fi

check "manifest.json exists" test -s "$bundle/manifest.json"
check "manifest: format, one fio run with non-zero IOPS, xvda with queues, every named path exists" \
  /usr/bin/python3 - "$bundle" <<'EOF'
import json, os, sys
b = sys.argv[1]
m = json.load(open(os.path.join(b, "manifest.json")))
assert m["format"] == "pvsim-bundle" and m["version"] == 1, "format/version"
assert m["system"]["role"] == "xen-domU", m["system"]
runs = m["fio_runs"]
assert len(runs) == 1, f"{len(runs)} fio runs"
r = runs[0]
assert (r["rw"], r["ioengine"], r["iodepth"], r["numjobs"]) == ("randread", "libaio", 16, 1), r
j = json.load(open(os.path.join(b, r["file"])))
iops = sum(job["read"]["iops"] for job in j["jobs"])
assert iops > 0, f"IOPS {iops}"
print(f"  fio: {iops:.0f} IOPS")
dev = [d for d in m["devices"] if d["name"] == "xvda"]
assert dev and dev[0]["hw_queues"] >= 1 and dev[0]["hw_queues"] == len(dev[0]["queues"]), m["devices"]
assert dev[0]["xen_nodename"] == "device/vbd/51712", dev[0]
for key in ("host", "guests", "lab", "backend", "frontend", "xenstore", "blkparse", "xen_version"):
    assert key in m, f"missing {key}"
for p in (r["file"], r["interrupts_before"], r["interrupts_after"], m["xenstore"]["file"], m["blkparse"]["file"],
          m["interrupts"]["before"], m["interrupts"]["after"]):
    assert os.path.exists(os.path.join(b, p)), f"missing {p}"
EOF
check "xenstore dump has multi-queue-num-queues" grep -q 'multi-queue-num-queues' "$bundle/xen/xenstore-ls-f.txt"

if [[ ${PVSIM_LAB_SKIP_VALIDATE:-0} == 1 ]]; then
  echo "skipped: pvsim validate (PVSIM_LAB_SKIP_VALIDATE=1)"
else
  rc=0
  "$pvsim" validate --bundle "$bundle" --json "$tmp/v.json" -o "$tmp/validation" || rc=$?
  check "pvsim validate --bundle exits 0 (exit $rc)" test "$rc" -eq 0
  check "pvsim validate wrote v.json" test -s "$tmp/v.json"
fi
finish
