#!/bin/bash
# One run: capture-commands.sh IODEPTH MODE ROUND, MODE idle | other (a SCHED_OTHER spinner pinned on each vCPU) |
# idleprio (the same under SCHED_IDLE) | one (one unpinned SCHED_OTHER spinner). /work/fiofile: 2 GiB, written in full.
qd=$1; mode=$2; r=$3
pids=()
if [ $mode = other ]; then for c in 0 1; do taskset -c $c bash -c 'while :; do :; done' & pids+=($!); done; fi
if [ $mode = idleprio ]; then for c in 0 1; do taskset -c $c chrt -i 0 bash -c 'while :; do :; done' & pids+=($!); done; fi
if [ $mode = one ]; then bash -c "while :; do :; done" & pids+=($!); fi
sleep 0.2
fio --name=r --filename=/work/fiofile --rw=randread --bs=4k --ioengine=libaio --direct=1 --iodepth=$qd --runtime=5 --time_based --ramp_time=1 --output-format=json --output=fio_${qd}_${mode}_${r}.json >/dev/null
for p in "${pids[@]}"; do kill $p; done; wait 2>/dev/null
python3 -c "import json;j=json.load(open('fio_${qd}_${mode}_${r}.json'))['jobs'][0]['read'];print('$qd $mode $r', round(j['iops']), round(j['clat_ns']['mean']/1000,1))"
