#!/bin/bash
# pvsim lab: PID 1 of the nested Xen dom0 (Debian minbase root), after the busybox stage 1 (guest/init, role dom0).
# Starts the Xen toolstack, one PV domU (xen-blk: fio on xvda; xen-net: iperf3 over a multi-queue vif), records
# what dom0 sees (XenStore, blktrace of the backing disk, its own /proc/interrupts, module parameters), collects the
# domU's results from its console log, writes everything as a tar to the config/results disk and restarts the
# machine (QEMU runs with -no-reboot, so it exits).
set -u
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
CON=/dev/console
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
echo "1 4 1 7" >/proc/sys/kernel/printk

. /lab/config.sh
IO=$(cat /lab/io_dev)
OUT=/out
rm -rf "$OUT"
mkdir -p "$OUT"/{logs,xen,dom0/interrupts,dom0/params,blktrace,domU}

say() {
  echo "PVSIM-STEP $*" >$CON
  echo "$(date +%s.%N) $*" >>"$OUT/logs/dom0-steps.txt"
}
finish() {
  # stop helpers, write the results tar, restart the (emulated) machine
  [[ -n ${follower_pid:-} ]] && kill "$follower_pid" 2>/dev/null
  [[ -n ${bt_pid:-} ]] && kill -INT "$bt_pid" 2>/dev/null
  cp /var/log/xen/console/*.log "$OUT/logs/" 2>/dev/null
  dmesg >"$OUT/logs/dom0-dmesg.txt" 2>/dev/null
  xl dmesg >"$OUT/xen/xl-dmesg.txt" 2>/dev/null
  tar cf "/dev/$IO" -C "$OUT" . 2>"$OUT/logs/tar.err"
  sync
  echo "PVSIM-DONE" >$CON
  sleep 1
  # minbase has no reboot command; QEMU runs with -no-reboot, so a machine restart ends it
  echo b >/proc/sysrq-trigger
  sleep 1000
}
fail() {
  echo "PVSIM-FAIL dom0: $*" >$CON
  echo "$*" >>"$OUT/failed"
  finish
}
run() { # run LOGNAME CMD...: run CMD with its output in logs/LOGNAME.log, fail on error
  local name=$1
  shift
  "$@" >"$OUT/logs/$name.log" 2>&1 || fail "$* (exit $?): $(tail -n 3 "$OUT/logs/$name.log" | tr '\n' ' ')"
}

say "dom0 up: $(nproc) vCPUs, kernel $(uname -r)"
uname -r >"$OUT/dom0/uname_r.txt"
nproc >"$OUT/dom0/nproc.txt"
cat /proc/cmdline >"$OUT/dom0/cmdline.txt"
grep MemTotal /proc/meminfo >"$OUT/dom0/meminfo.txt"

# ---- kernel side of Xen in dom0
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs; do run "modprobe-$m" modprobe "$m"; done
mountpoint -q /proc/xen || run mount-xenfs mount -t xenfs xenfs /proc/xen
case "$VARIANT" in
xen-blk)
  run modprobe-xen-blkback modprobe xen-blkback max_queues="$BQ" max_ring_page_order="$ORDER" \
    feature_persistent="$PERSIST"
  ;;
xen-net)
  run modprobe-xen-netback modprobe xen-netback max_queues="$NETQ" separate_tx_rx_irq="${NETSPLIT:-1}"
  ;;
esac
for m in xen_blkback xen_netback; do
  if [[ -d /sys/module/$m/parameters ]]; then
    mkdir -p "$OUT/dom0/params/$m"
    for p in /sys/module/$m/parameters/*; do cat "$p" >"$OUT/dom0/params/$m/$(basename "$p")" 2>/dev/null; done
  fi
done

# ---- toolstack
mkdir -p /var/run/xen /var/lib/xen /var/log/xen/console /var/lib/xenstored /run/xenstored
say "starting xenstored, xen-init-dom0, xenconsoled"
run xenstored xenstored --pid-file=/run/xenstored.pid
run xen-init-dom0 xen-init-dom0
run xenconsoled xenconsoled --log=guest --log-dir=/var/log/xen/console --pid-file=/run/xenconsoled.pid
xl info >"$OUT/xen/xl-info.txt" 2>&1 || fail "xl info failed: $(tail -n 2 "$OUT/xen/xl-info.txt")"

# ---- the domU
extra="console=hvc0 loglevel=1 lab.role=domu-${VARIANT#xen-}"
case "$VARIANT" in
xen-blk)
  data=$DATA_DEV
  [[ -b /dev/$data ]] || fail "no backing disk /dev/$data"
  extra+=" xen_blkfront.max_queues=$FQ"
  [[ $FRONT_HAS_ORDER == 1 ]] && extra+=" xen_blkfront.max_ring_page_order=$ORDER"
  [[ $FRONT_HAS_PERSIST == 1 ]] && extra+=" xen_blkfront.feature_persistent=$PERSIST"
  extra+=" lab.rw=$RWS lab.iodepths=$IODEPTHS lab.numjobs=$NUMJOBS lab.runtime=$RUNTIME lab.ramp=$RAMP"
  extra+=" lab.engine=$ENGINE lab.bs=$BS"
  disk="'format=raw, vdev=xvda, access=rw, script=/lab/block-min, target=/dev/$data'"
  vif=""
  ;;
xen-net)
  extra+=" xen_netfront.max_queues=$NETQ lab.streams=$STREAMS lab.duration=$DURATION"
  extra+=" lab.ip=$DOMU_IP lab.peer=$DOM0_IP"
  disk=""
  vif="'script=/lab/vif-min, mac=00:16:3e:00:00:02'"
  ;;
esac
cat >/lab/domU.cfg <<EOF
name = "domU"
type = "pv"
kernel = "/lab/vmlinuz"
ramdisk = "/lab/initramfs.cpio.gz"
extra = "$extra"
memory = $DOMU_MEM
vcpus = $DOMU_VCPUS
disk = [ $disk ]
vif = [ $vif ]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
cp /lab/domU.cfg "$OUT/xen/domU.cfg"

cp /proc/interrupts "$OUT/dom0/interrupts/before.txt"
if [[ $VARIANT == xen-blk ]]; then
  # blktrace of the backing disk for the whole domU session (vdb is used by nothing else)
  mkdir -p /tmp/bt
  blktrace -d "/dev/$data" -D /tmp/bt -o "$data" >"$OUT/logs/blktrace.log" 2>&1 &
  bt_pid=$!
  sleep 2
  if kill -0 "$bt_pid" 2>/dev/null; then
    date +%s.%N >"$OUT/blktrace/start_epoch.txt"
  else
    bt_pid=""
    echo "blktrace exited at once: $(tail -n 2 "$OUT/logs/blktrace.log" | tr '\n' ' ')" >"$OUT/blktrace/failed.txt"
  fi
else
  iperf3 -s -D --logfile "$OUT/logs/iperf3-server.log" || fail "iperf3 server did not start"
fi

say "xl create domU ($DOMU_VCPUS vCPUs, ${DOMU_MEM} MiB)"
run xl-create xl -vvv create /lab/domU.cfg
domid=$(xl domid domU) || fail "no domid for domU"
echo "$domid" >"$OUT/xen/domU_domid.txt"
conslog=/var/log/xen/console/guest-domU.log

# Follow the domU console: forward progress, snapshot dom0's interrupts around each run.
(
  i=0
  while [[ ! -e $conslog ]] && ((i < 100)); do sleep 0.2; i=$((i + 1)); done
  tail -n +1 -F "$conslog" 2>/dev/null | while IFS= read -r line; do
    line=${line//$'\r'/}
    case "$line" in
    *PVSIM-STEP*) echo "PVSIM-STEP ${line#*PVSIM-STEP }" >$CON ;;
    *PVSIM-FAIL*) echo "PVSIM-STEP domU failed: ${line#*PVSIM-FAIL }" >$CON ;;
    *PVSIM-RUN-BEGIN*)
      r=${line#*PVSIM-RUN-BEGIN }
      cp /proc/interrupts "$OUT/dom0/interrupts/$r.before.txt"
      echo "BEGIN $r $(date +%s.%N)" >>"$OUT/logs/run-times.txt"
      ;;
    *PVSIM-RUN-END*)
      r=${line#*PVSIM-RUN-END }
      cp /proc/interrupts "$OUT/dom0/interrupts/$r.after.txt"
      echo "END $r $(date +%s.%N)" >>"$OUT/logs/run-times.txt"
      ;;
    esac
  done
) &
follower_pid=$!

# Wait for the frontend to connect (state 4), then dump XenStore.
kind=vbd
node=51712
[[ $VARIANT == xen-net ]] && kind=vif node=0
fe=/local/domain/$domid/device/$kind/$node
i=0
while [[ $(xenstore-read "$fe/state" 2>/dev/null) != 4 ]]; do
  i=$((i + 1))
  ((i < 600)) || {
    xenstore-ls -f >"$OUT/xen/xenstore-ls-f.full.txt" 2>&1
    fail "frontend $fe did not reach state 4 in 300 s"
  }
  xl list domU >/dev/null 2>&1 || fail "domU died before its frontend connected"
  sleep 0.5
done
say "frontend $kind/$node connected (state 4)"
sleep 1
xenstore-ls -f >"$OUT/xen/xenstore-ls-f.full.txt" 2>&1
grep -E "^/local/domain/[0-9]+/(backend/$kind|device/$kind)(/|$| )" "$OUT/xen/xenstore-ls-f.full.txt" \
  >"$OUT/xen/xenstore-ls-f.txt" || true

# Wait for the domU to finish (it powers itself off after sending its results).
deadline=$(($(date +%s) + DOMU_TIMEOUT))
while xl list domU >/dev/null 2>&1; do
  if (($(date +%s) > deadline)); then
    echo "domU still running after ${DOMU_TIMEOUT}s: destroyed" >>"$OUT/failed"
    echo "PVSIM-STEP domU timed out after ${DOMU_TIMEOUT}s: destroying it" >$CON
    xl destroy domU
    break
  fi
  sleep 1
done
cp /proc/interrupts "$OUT/dom0/interrupts/after.txt"
say "domU finished"
sleep 1
kill "$follower_pid" 2>/dev/null
follower_pid=""

if [[ -n ${bt_pid:-} ]]; then
  kill -INT "$bt_pid"
  wait "$bt_pid"
  bt_pid=""
  say "blkparse of /dev/$data"
  blkparse -i "$data" -D /tmp/bt -o /tmp/bt/parsed.txt >"$OUT/logs/blkparse.log" 2>&1
  lines=$(wc -l </tmp/bt/parsed.txt)
  if ((lines <= BLKPARSE_MAX_LINES)); then
    cp /tmp/bt/parsed.txt "$OUT/blktrace/$BLKPARSE_NAME"
    echo "complete $lines" >"$OUT/blktrace/status.txt"
  else
    half=$((BLKPARSE_MAX_LINES / 2))
    {
      head -n "$half" /tmp/bt/parsed.txt
      echo "... [pvsim lab: $((lines - 2 * half)) lines cut; the full text had $lines lines] ..."
      tail -n "$half" /tmp/bt/parsed.txt
    } >"$OUT/blktrace/$BLKPARSE_NAME"
    echo "head+tail $lines" >"$OUT/blktrace/status.txt"
  fi
  # per-CPU summary that blkparse prints at the end
  tail -n 60 /tmp/bt/parsed.txt >"$OUT/blktrace/summary.txt"
fi

# The domU's results, from its console log (first copy whose md5 matches).
say "extracting the domU's results from its console"
cp "$conslog" "$OUT/logs/domU-console.log" 2>/dev/null
python3 /lab/extract-console.py "$conslog" "$OUT/domU" >"$OUT/logs/extract.log" 2>&1 ||
  echo "domU results: $(tail -n 1 "$OUT/logs/extract.log")" >>"$OUT/failed"
say "writing the results disk"
finish
