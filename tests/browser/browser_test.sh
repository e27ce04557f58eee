#!/usr/bin/env bash
# Browser test: `pvsim run scenarios/xen-blk-mq.json --trace` (the issue's example), then the trace opened in
# Chromium's own trace viewer engine (tests/browser/trace_in_chromium.py). Exit 77 (skipped) without Chromium.
# Usage: tests/browser/browser_test.sh PATH/TO/pvsim
set -euo pipefail
pvsim=${1:?usage: $0 PATH/TO/pvsim}
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ -x /usr/bin/chromium ]] || { echo "skipped: /usr/bin/chromium is not installed (Debian package chromium)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvsim-browser-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$pvsim" run "$root/scenarios/xen-blk-mq.json" --set duration=12ms -q -o "$tmp/out" --trace "$tmp/trace.json"
exec /usr/bin/python3 "$root/tests/browser/trace_in_chromium.py" "$tmp/trace.json" --expect-track xvda.ring0 \
  --expect-track blkmq.hctx0 --expect-track nullb0 --expect-track "fio I/O" --expect-track domU.vcpu0 \
  --expect-track vbd.ring0
