#!/usr/bin/env bash
# pvsim lab test for vifs: runs the nested-Xen lab's xen-net variant three times (one queue; two queues with split
# event channels; two queues with one shared channel, xen_netback separate_tx_rx_irq=0), each with one 3 s iperf3
# stream, and checks the real `xenstore-ls -f` dump dom0 wrote against pvsim, both ways:
# - `pvsim from-xenstore` turns it into xen.netfront/xen.netback components with the negotiated queues and channels;
# - `pvsim xenstore` on scenarios/xen-vif-mq.json set up like the lab (dom0 2 vCPUs, the same queues and channels)
#   writes the same tree, key for key (tests/lab/vif_keys_match.py).
#
# Usage: tests/lab/lab_net_test.sh PATH/TO/pvsim
# Environment as tests/lab/lab_test.sh (PVSIM_LAB_CACHE, PVSIM_LAB_KEEP). Needs root and about 8 minutes under
# software CPU emulation (2-3 minutes per run). Exit 0 when every check passes, 1 otherwise.
set -euo pipefail

pvsim=${1:-}
[[ -n $pvsim ]] || { echo "usage: $0 PATH/TO/pvsim" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
lab=$root/analysis/lab/lab.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvsim-lab-net-test.XXXXXX")
if [[ ${PVSIM_LAB_KEEP:-0} != 1 ]]; then trap 'rm -rf "$tmp"' EXIT; fi
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

# from_xenstore_says DUMP QUEUES SPLIT: one vif, QUEUES queues, split channels or not, components for both ends.
from_xenstore_says() {
  "$pvsim" from-xenstore "$1" >"$1.json" || return 1
  /usr/bin/python3 - "$1.json" "$2" "$3" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
queues, split = int(sys.argv[2]), sys.argv[3] == "on"
d = [x for x in j["devices"] if x["kind"] == "vif"]
assert len(d) == 1, f"{len(d)} vifs"
d = d[0]
assert d["num_queues"] == queues and len(d["queues"]) == queues, d
assert d["split_event_channels"] == split, d
assert d["frontend_state"] == "Connected" and d["backend_state"] == "Connected", d
assert j["components"]["netfront_d1_0"]["max_queues"] == queues, j["components"]
assert j["components"]["netback_d1_0"]["split_event_channels"] == split, j["components"]
print(f"  from-xenstore: {queues} queue(s), split {split}, channels {[q.get('tx_event_channel', q.get('event_channel')) for q in d['queues']]}")
PY
}

for setup in "1 on" "2 on" "2 off"; do
  read -r queues split <<<"$setup"
  out=$tmp/net-q$queues-$split
  echo "running: $lab xen-net --queues $queues --split $split --streams 1 --runtime 3 --out $out"
  if ! "$lab" xen-net --queues "$queues" --split "$split" --streams 1 --runtime 3 --out "$out"; then
    check "lab.sh xen-net --queues $queues --split $split" false
    continue
  fi
  dump=$out/xen/xenstore-ls-f.txt
  check "q$queues split $split: the dump has the vif" grep -q '/device/vif/0/state = "4"' "$dump"
  check "q$queues split $split: from-xenstore reads the negotiated queues and channels" \
    from_xenstore_says "$dump" "$queues" "$split"
  split_flag=$([[ $split == on ]] && echo true || echo false)
  "$pvsim" xenstore "$root/scenarios/xen-vif-mq.json" --set components.dom0_cpus.cores=2 \
    --set "components.vif.max_queues=$queues" --set "components.vif-be.max_queues=$queues" \
    --set "components.vif-be.split_event_channels=$split_flag" \
    >"$tmp/simulated-q$queues-$split.txt"
  check "q$queues split $split: pvsim xenstore writes the real tree key for key" \
    /usr/bin/python3 "$root/tests/lab/vif_keys_match.py" "$dump" "$tmp/simulated-q$queues-$split.txt"
done
echo "$passed passed, $failed failed"
((failed == 0))
