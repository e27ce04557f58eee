#!/bin/bash
# session 51 captures on this Firecracker guest on KVM (quiet machine: nothing else running)
set -e
C=/work/main/analysis/capture/capture.sh
T=/work/fcdata51/pvsim.dat
mkdir -p /work/fcdata51
cd /work/cap51
for round in 1 2; do
  bash $C -t $T -o /work/cap51/libaio-r$round -d 1,4,16,64,128 -j 1,2 -e libaio -r 8 --ramp 2 --size 2G --description "session 51 round $round: libaio, 1 and 2 jobs"
done
bash $C -t $T -o /work/cap51/uring -d 1,4,16,64,128 -j 1,2 -e io_uring -r 8 --ramp 2 --size 2G --description "session 51: io_uring, 1 and 2 jobs"
bash $C -t $T -o /work/cap51/write -w randwrite -d 1,16,64 -j 1 -e libaio -r 8 --ramp 2 --size 2G --description "session 51: random writes"
mkdir -p /work/cap51/files/fio
for q in 4 16 64; do
  fio --name=randread_libaio_qd${q}_nj1_f4 --filename=/work/fcdata51/f0:/work/fcdata51/f1:/work/fcdata51/f2:/work/fcdata51/f3 --size=2G \
    --bs=4k --group_reporting --norandommap --randrepeat=0 --ioengine=libaio --rw=randread --iodepth=$q --numjobs=1 \
    --direct=1 --time_based --runtime=8 --ramp_time=2 --output-format=json+ --output=/work/cap51/files/fio/randread_libaio_qd${q}_nj1_f4.json
  fio --name=randread_libaio_qd${q}_nj4_f4 --directory=/work/fcdata51 --filename_format='g.$jobnum' --size=512M \
    --bs=4k --group_reporting --norandommap --randrepeat=0 --ioengine=libaio --rw=randread --iodepth=$q --numjobs=4 \
    --direct=1 --time_based --runtime=8 --ramp_time=2 --output-format=json+ --output=/work/cap51/files/fio/randread_libaio_qd${q}_nj4_f4.json
done
echo done
