#!/usr/bin/env bash
# The commands that recorded this directory (session 48), in the order run in the guest: busy/, fio/, then
# vcpu_wake.json (the tool as committed, built from the project root).
set -euo pipefail
f=/work/lab48/f.dat
fio --name=prep --filename=$f --size=1G --rw=write --bs=1M --direct=1 --output=/dev/null
common=(--filename=$f --size=1G --rw=randread --bs=4k --direct=1 --ioengine=libaio --runtime=4 --time_based)
for rep in 1 2 3; do for qd in 1 4 16; do
  fio --name=r "${common[@]}" --iodepth=$qd --output-format=json --output=busy/fio_${qd}_idle_$rep.json
  for c in 0 1; do taskset -c $c chrt -i 0 sh -c 'while :; do :; done' & done
  sleep 0.5
  fio --name=r "${common[@]}" --iodepth=$qd --output-format=json --output=busy/fio_${qd}_busy_$rep.json
  kill $(jobs -p); wait || true
done; done
for rep in 1 2; do for qd in 1 4 16 64; do
  fio --name=r "${common[@]}" --iodepth=$qd --output-format=json+ --output=fio/randread_libaio_qd${qd}_nj1_f1_rep$rep.json
done; done
c++ -O2 -pthread -o /tmp/vcpu_wake analysis/capture/vcpu_wake.cpp
/tmp/vcpu_wake --rounds 1000 >vcpu_wake.json
