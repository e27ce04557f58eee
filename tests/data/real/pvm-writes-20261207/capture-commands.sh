#!/bin/bash
# session 49 captures on this Firecracker guest under PVM (quiet: nothing else running but the session's shell)
set -e
C=/work/ci-check/analysis/capture/capture.sh
T=/work/lab49/f.dat
mkdir -p /work/lab49 /work/cap49
bash $C -t $T -o /work/cap49/reads -d 1,4,16,64 -j 1 -e libaio -r 8 --ramp 2 --size 2G --vcpu-wake-rounds 0 \
  --description "session 49: libaio reads, one job"
bash $C -t $T -o /work/cap49/write -w randwrite -d 1,16,64 -j 1 -e libaio -r 8 --ramp 2 --size 2G --vcpu-wake-rounds 0 \
  --description "session 49: random writes"
