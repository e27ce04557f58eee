#!/usr/bin/env bash
# pvsim capture: runs a small fio matrix on a real host or guest and writes a bundle directory (manifest.json, fio
# json+ results, the device's blk-mq layout, CPU topology, /proc/interrupts, XenStore / QEMU facts, and device.txt:
# the guest description `pvsim detect` reads to tell the VMM) that
# `pvsim validate --bundle DIR` reads. See README.md beside this script for the manifest format.
set -euo pipefail

readonly capture_version=1
prog=$(basename "$0")

usage() {
  cat <<EOF
Usage: $prog --target PATH --output DIR [options]

Runs fio on PATH (a block device or a file, created if needed) for every combination of rw x engine x iodepth x
numjobs, and writes a pvsim bundle in DIR (created; must be empty or absent).

  -t, --target PATH        block device (/dev/vdb) or file (/mnt/test/pvsim.dat) to run fio on       (required)
  -o, --output DIR         bundle directory to write                                                 (required)
  -d, --iodepths LIST      comma-separated iodepths                              (default: $iodepths)
  -j, --numjobs LIST       comma-separated numjobs                               (default: $numjobs)
  -e, --engines LIST       comma-separated fio ioengines; those that do not work here are skipped
                           (sync engines run at iodepth 1 only)                  (default: $engines)
  -w, --rw LIST            comma-separated fio rw modes                          (default: $rws)
  -r, --runtime S          seconds per run (time_based)                          (default: $runtime)
      --ramp S             fio ramp_time in seconds                              (default: $ramp)
      --bs SIZE            block size                                            (default: $bs)
      --size SIZE          file size / region of the device used                 (default: $size)
      --buffered           do not use O_DIRECT (default: direct=1, or buffered with a note when the
                           filesystem refuses O_DIRECT)
      --role ROLE          linux | xen-dom0 | xen-domU | kvm-host | kvm-guest    (default: detected)
      --description TEXT   free text saved in the manifest (machine, disk, what was done)
      --qemu-cmdline FILE  the QEMU command line (text) to save (KVM guest side: copy it from the host)
      --qemu-pid PID       read /proc/PID/cmdline (KVM host side; default: the first qemu-system process)
      --xenstore FILE      a saved \`xenstore-ls -f\` dump (e.g. taken in dom0 for a domU bundle)
      --blktrace           also record blktrace of the device during each run (skipped with a note when
                           blktrace is missing or not permitted)
      --allow-device-writes  allow write workloads on a block device (destroys its data)
      --vcpu-wake-rounds N  rounds per point of the vCPU wake-up measurement (vcpu_wake.json: builds
                           vcpu_wake.cpp beside this script with c++; 0 skips it)       (default: $vcpu_wake_rounds)
  -h, --help               this help

Example (a 10 s matrix on a scratch file):
  $prog -t /mnt/scratch/pvsim.dat -o bundle-\$(hostname) -d 1,16,64 -j 1,2 -e libaio,io_uring,psync -r 10
Exit status: 0 when every step worked (optional facts may be missing: see manifest.json "not_captured"),
1 when a step failed (the message names the step and its log), 2 for bad options.
EOF
}

# Defaults: small.
target="" out="" iodepths="1,16" numjobs="1" engines="libaio" rws="randread" runtime=5 ramp=0 bs=4k size=256M
buffered=0 role="" description="" qemu_cmdline_file="" qemu_pid="" xenstore_file="" want_blktrace=0 allow_writes=0
vcpu_wake_rounds=1000

die_usage() {
  echo "$prog: $*" >&2
  echo "Try '$prog --help'." >&2
  exit 2
}

while (($#)); do
  case "$1" in
  -h | --help) usage; exit 0 ;;
  -t | --target) target=${2:?}; shift ;;
  -o | --output) out=${2:?}; shift ;;
  -d | --iodepths) iodepths=${2:?}; shift ;;
  -j | --numjobs) numjobs=${2:?}; shift ;;
  -e | --engines) engines=${2:?}; shift ;;
  -w | --rw) rws=${2:?}; shift ;;
  -r | --runtime) runtime=${2:?}; shift ;;
  --ramp) ramp=${2:?}; shift ;;
  --bs) bs=${2:?}; shift ;;
  --size) size=${2:?}; shift ;;
  --buffered) buffered=1 ;;
  --role) role=${2:?}; shift ;;
  --description) description=${2:?}; shift ;;
  --qemu-cmdline) qemu_cmdline_file=${2:?}; shift ;;
  --qemu-pid) qemu_pid=${2:?}; shift ;;
  --xenstore) xenstore_file=${2:?}; shift ;;
  --blktrace) want_blktrace=1 ;;
  --allow-device-writes) allow_writes=1 ;;
  --vcpu-wake-rounds) vcpu_wake_rounds=${2:?}; shift ;;
  *) die_usage "unknown option '$1'" ;;
  esac
  shift
done

[[ -n $target ]] || die_usage "--target is required"
[[ -n $out ]] || die_usage "--output is required"
for v in "$iodepths" "$numjobs"; do
  [[ $v =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die_usage "expected a comma-separated list of positive integers: '$v'"
done
[[ $runtime =~ ^[1-9][0-9]*$ ]] || die_usage "--runtime: expected a positive integer number of seconds: '$runtime'"
[[ $vcpu_wake_rounds =~ ^(0|[1-9][0-9]{1,6})$ ]] ||
  die_usage "--vcpu-wake-rounds: expected 0 (skip) or a number of rounds from 10 to 9999999: '$vcpu_wake_rounds'"
[[ $ramp =~ ^[0-9]+$ ]] || die_usage "--ramp: expected a number of seconds: '$ramp'"
case "$role" in "" | linux | xen-dom0 | xen-domU | kvm-host | kvm-guest) ;; *) die_usage "--role: unknown role '$role'" ;; esac
[[ -z $qemu_cmdline_file || -r $qemu_cmdline_file ]] || die_usage "--qemu-cmdline: cannot read '$qemu_cmdline_file'"
[[ -z $xenstore_file || -r $xenstore_file ]] || die_usage "--xenstore: cannot read '$xenstore_file'"
[[ -z $qemu_pid || -r /proc/$qemu_pid/cmdline ]] || die_usage "--qemu-pid: no process $qemu_pid"
for tool in fio python3; do
  command -v "$tool" >/dev/null || { echo "$prog: '$tool' is not installed (needed)" >&2; exit 1; }
done
if [[ -e $out ]] && [[ -n $(ls -A "$out") ]]; then
  die_usage "output directory '$out' exists and is not empty"
fi
IFS=, read -r -a depth_list <<<"$iodepths"
IFS=, read -r -a jobs_list <<<"$numjobs"
IFS=, read -r -a engine_list <<<"$engines"
IFS=, read -r -a rw_list <<<"$rws"

mkdir -p "$out"/{fio,logs,interrupts,system,sysfs}
out=$(cd "$out" && pwd)
captured="$out/logs/captured.tsv"       # what<TAB>file
not_captured="$out/logs/not_captured.tsv" # what<TAB>why
notes="$out/logs/notes.txt"
runs="$out/logs/runs.tsv"
: >"$captured" && : >"$not_captured" && : >"$notes" && : >"$runs"

say() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*"; }
got() { printf '%s\t%s\n' "$1" "$2" >>"$captured"; }
missed() {
  printf '%s\t%s\n' "$1" "$2" >>"$not_captured"
  say "  (not captured: $1: $2)"
}
note() { printf '%s\n' "$*" >>"$notes"; }
# step NAME LOG CMD...: runs CMD with its output in LOG; on failure says which step and where its log is, exits 1.
step() {
  local name=$1 log=$2
  shift 2
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc != 0)); then
    echo "$prog: step '$name' failed (exit $rc); log: $log" >&2
    tail -n 5 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
}

# ---- the target and its block device
say "target $target"
target_kind="file"
if [[ -b $target ]]; then
  target_kind=block
  for r in "${rw_list[@]}"; do
    if [[ $r == *write* || $r == rw || $r == randrw || $r == trim* ]] && ((allow_writes == 0)); then
      die_usage "'$r' writes to the block device $target: add --allow-device-writes if its data may be destroyed"
    fi
  done
  src=$(readlink -f "$target")
else
  tdir=$(dirname "$target")
  [[ -d $tdir ]] || die_usage "directory of --target does not exist: $tdir"
  src=$(df --output=source "$tdir" 2>/dev/null | tail -n 1 || true)
  [[ -e $target ]] || note "target file $target created by fio ($size)"
fi
dev=""
if [[ $src == /dev/* ]] && [[ -b $src ]]; then
  name=$(basename "$(readlink -f "$src")")
  if [[ -e /sys/class/block/$name/partition ]]; then
    name=$(basename "$(dirname "$(readlink -f "/sys/class/block/$name")")")
  fi
  [[ -d /sys/block/$name ]] && dev=$name
fi
if [[ -z $dev ]]; then
  missed "device" "no block device found under '$target' (source '${src:-?}'): no queue layout"
else
  say "block device $dev"
fi

# ---- system facts
say "system facts"
uname -a >"$out/system/uname.txt" && got uname system/uname.txt
nproc >"$out/system/nproc.txt" && got nproc system/nproc.txt
if lscpu -J >"$out/system/lscpu.json" 2>/dev/null; then got lscpu system/lscpu.json; else
  rm -f "$out/system/lscpu.json"
  missed lscpu "lscpu -J failed or is missing"
fi
if [[ -r /proc/cpuinfo ]]; then
  grep -E '^(processor|model name|physical id|core id|cpu MHz|flags)' /proc/cpuinfo |
    awk -F': ' '/^processor/{p=$2} /^model name/{m[$2]++} /^physical id/{s[$2]} /^flags/{if(!f){f=$2}}
      END{printf "processors=%d\n", p+1; for(k in m) printf "model=%s count=%d\n", k, m[k];
          n=0; for(k in s) n++; printf "sockets=%d\n", n; printf "hypervisor=%s\n", (f ~ /hypervisor/) ? "yes" : "no"}' \
      >"$out/system/cpuinfo.txt"
  got cpuinfo system/cpuinfo.txt
fi
# The machine's hypervisor (--vm: a container's own marker, /.dockerenv say, must not hide it) and, apart, the
# container fio runs in, if any.
virt=$(systemd-detect-virt --vm 2>/dev/null || true)
[[ -n $virt ]] || virt=unknown
container=$(systemd-detect-virt --container 2>/dev/null || true)
[[ -n $container ]] || container=unknown
if [[ -z $role ]]; then
  if [[ -r /proc/xen/capabilities ]] && grep -q control_d /proc/xen/capabilities; then role=xen-dom0
  elif [[ -d /proc/xen || $(cat /sys/hypervisor/type 2>/dev/null || true) == xen || $virt == xen ]]; then role=xen-domU
  elif [[ $virt == kvm || $virt == qemu ]]; then role=kvm-guest
  elif [[ -e /dev/kvm ]] && pgrep -f qemu-system >/dev/null 2>&1; then role=kvm-host
  else role=linux
  fi
fi
say "role $role (virtualization: $virt, container: $container)"

# ---- the device's blk-mq layout and queue settings
if [[ -n $dev ]]; then
  d="$out/sysfs/$dev"
  mkdir -p "$d/queue" "$d/mq"
  for f in scheduler nr_requests rotational max_sectors_kb; do
    [[ -r /sys/block/$dev/queue/$f ]] && cat "/sys/block/$dev/queue/$f" >"$d/queue/$f"
  done
  if [[ -d /sys/block/$dev/mq ]]; then
    for q in /sys/block/"$dev"/mq/*; do
      i=$(basename "$q")
      mkdir -p "$d/mq/$i"
      cat "$q/cpu_list" >"$d/mq/$i/cpu_list"
      cat "$q/nr_tags" >"$d/mq/$i/nr_tags"
    done
    got sysfs "sysfs/$dev"
  else
    missed "mq layout" "/sys/block/$dev/mq does not exist (not a blk-mq device)"
  fi
  [[ -r /sys/block/$dev/device/nodename ]] && cat "/sys/block/$dev/device/nodename" >"$d/xen_nodename"
  [[ -r /sys/block/$dev/size ]] && cat "/sys/block/$dev/size" >"$d/size_sectors"
fi

# ---- the guest description: device.txt in "== section" blocks (the format of ../shared/traces/virtio-vm-1q/
# device.txt), what `pvsim detect` reads to tell the VMM (analysis/readers/guest_facts.hpp): kernel, vCPUs, the
# device's queue attributes, blk-mq layout and negotiated virtio features, every block and virtio device's driver
# and sysfs path (the bus: PCI or virtio-mmio), DMI, the kernel command line, ACPI table OEM IDs, /proc/interrupts.
first_line() { head -n 1 "$1" 2>/dev/null || true; }
# acpi_field FILE OFFSET LENGTH: an ACPI table header field (OEM ID at 10, 6 bytes; OEM table ID at 16, 8 bytes).
acpi_field() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | tr -d '\000' | sed 's/ *$//'; }
guest_description() {
  echo "== uname"
  uname -a
  echo "== nproc"
  nproc
  if [[ -n $dev ]]; then
    echo "== queue attrs $dev"
    for f in /sys/block/"$dev"/queue/*; do
      [[ -f $f && -r $f ]] && printf '%s: %s\n' "$(basename "$f")" "$(first_line "$f")"
    done
    echo "== mq $dev"
    for q in /sys/block/"$dev"/mq/*; do
      [[ -d $q ]] || continue
      printf '%s cpu_list=%s nr_tags=%s nr_reserved_tags=%s\n' "$q" "$(first_line "$q/cpu_list")" \
        "$(first_line "$q/nr_tags")" "$(first_line "$q/nr_reserved_tags")"
    done
    if [[ -r /sys/block/$dev/device/features ]]; then
      echo "== virtio features $dev"
      first_line "/sys/block/$dev/device/features"
    fi
  fi
  echo "== block devices"
  for b in /sys/block/*; do
    [[ -e $b/device ]] || continue
    drv=""
    [[ -e $b/device/driver ]] && drv=$(basename "$(readlink -f "$b/device/driver")")
    echo "$(basename "$b") driver=$drv path=$(readlink -f "$b/device")"
  done
  echo "== virtio devices"
  for v in /sys/bus/virtio/devices/*; do
    [[ -e $v ]] || continue
    drv=""
    [[ -e $v/driver ]] && drv=$(basename "$(readlink -f "$v/driver")")
    echo "$(basename "$v") device=$(first_line "$v/device") driver=$drv path=$(readlink -f "$v")" \
      "features=$(first_line "$v/features")"
  done
  echo "== dmi"
  if [[ -d /sys/class/dmi/id ]]; then
    for k in sys_vendor product_name; do
      [[ -r /sys/class/dmi/id/$k ]] && echo "$k: $(first_line "/sys/class/dmi/id/$k")"
    done
  else
    echo none
  fi
  echo "== cmdline"
  first_line /proc/cmdline
  echo "== acpi tables"
  if [[ -d /sys/firmware/acpi/tables ]]; then
    for t in /sys/firmware/acpi/tables/*; do
      [[ -f $t ]] || continue
      if [[ -r $t ]]; then
        echo "$(basename "$t"): oem_id=$(acpi_field "$t" 10 6) oem_table_id=$(acpi_field "$t" 16 8)"
      else
        echo "$(basename "$t") (not readable: needs root)"
      fi
    done
  else
    echo none
  fi
  echo "== interrupts"
  cat /proc/interrupts
  if command -v lscpu >/dev/null; then
    echo "== lscpu"
    lscpu
  fi
  return 0
}
if guest_description >"$out/device.txt" 2>"$out/logs/device_txt.log"; then
  got guest_description device.txt
else
  missed guest_description "writing device.txt failed (see logs/device_txt.log)"
fi

# ---- Xen: the vbd/vif keys of XenStore
if [[ -n $xenstore_file ]]; then
  mkdir -p "$out/xen"
  cp "$xenstore_file" "$out/xen/xenstore-ls-f.txt" && got xenstore xen/xenstore-ls-f.txt
elif command -v xenstore-ls >/dev/null; then
  mkdir -p "$out/xen"
  if xenstore-ls -f >"$out/logs/xenstore-ls.full" 2>"$out/logs/xenstore-ls.log"; then
    grep -E '/(backend|device)/(vbd|vif)(/|$| )' "$out/logs/xenstore-ls.full" >"$out/xen/xenstore-ls-f.txt" || true
    rm -f "$out/logs/xenstore-ls.full"
    if [[ -s $out/xen/xenstore-ls-f.txt ]]; then got xenstore xen/xenstore-ls-f.txt; else
      rm -f "$out/xen/xenstore-ls-f.txt"
      missed xenstore "xenstore-ls -f printed no vbd/vif key"
    fi
  else
    missed xenstore "xenstore-ls -f failed (see logs/xenstore-ls.log)"
  fi
else
  [[ $role == xen-* ]] && missed xenstore "xenstore-ls is not installed"
fi

# ---- KVM: the QEMU command line
if [[ -n $qemu_cmdline_file ]]; then
  mkdir -p "$out/qemu"
  cp "$qemu_cmdline_file" "$out/qemu/cmdline.txt" && got qemu_cmdline qemu/cmdline.txt
else
  if [[ -z $qemu_pid ]]; then qemu_pid=$(pgrep -f '^[^ ]*qemu-system' 2>/dev/null | head -n 1 || true); fi
  if [[ -n $qemu_pid ]] && [[ -r /proc/$qemu_pid/cmdline ]]; then
    mkdir -p "$out/qemu"
    tr '\0' '\n' <"/proc/$qemu_pid/cmdline" >"$out/qemu/cmdline.txt" && got qemu_cmdline qemu/cmdline.txt
    note "QEMU command line of process $qemu_pid, one argument per line"
  elif [[ $role == kvm-* ]]; then
    missed qemu_cmdline "no QEMU process here (on a guest, pass the host's command line with --qemu-cmdline)"
  fi
fi

# ---- the vCPUs' wake-up latencies (pvsim's guest.vm halt_wake_latency and busy_kick_latency; README "Idle vCPUs"):
# vcpu_wake.cpp, built here, wakes a thread on CPU 1 from CPU 0 after idle times below and past the host's halt-poll
# window, and with a SCHED_IDLE task keeping CPU 1 busy. Before the matrix, with nothing else running.
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ((vcpu_wake_rounds == 0)); then
  missed vcpu_wake "skipped (--vcpu-wake-rounds 0)"
elif (($(nproc) < 2)); then
  missed vcpu_wake "needs two CPUs"
elif ! command -v c++ >/dev/null; then
  missed vcpu_wake "no C++ compiler (c++) to build $script_dir/vcpu_wake.cpp"
elif ! c++ -O2 -pthread -o "$out/logs/vcpu_wake" "$script_dir/vcpu_wake.cpp" >"$out/logs/vcpu_wake_build.log" 2>&1; then
  missed vcpu_wake "building vcpu_wake.cpp failed (see logs/vcpu_wake_build.log)"
else
  say "vCPU wake-up latencies ($vcpu_wake_rounds rounds per point)"
  if "$out/logs/vcpu_wake" --rounds "$vcpu_wake_rounds" >"$out/vcpu_wake.json" 2>"$out/logs/vcpu_wake.log"; then
    got vcpu_wake vcpu_wake.json
  else
    rm -f "$out/vcpu_wake.json"
    missed vcpu_wake "vcpu_wake failed (see logs/vcpu_wake.log)"
  fi
  rm -f "$out/logs/vcpu_wake"
fi

# ---- blktrace availability
blktrace_ok=0
if ((want_blktrace)); then
  if ! command -v blktrace >/dev/null; then missed blktrace "blktrace is not installed"
  elif [[ -z $dev ]]; then missed blktrace "no block device"
  elif [[ $(id -u) != 0 ]]; then missed blktrace "needs root"
  else blktrace_ok=1
  fi
fi

# ---- probes: O_DIRECT and each engine
common=(--filename="$target" --size="$size" --bs="$bs" --group_reporting --norandommap --randrepeat=0)
direct=1
if ((buffered)); then
  direct=0
  note "buffered I/O (--buffered): the page cache is between fio and the device"
fi
say "probing engines (${engine_list[*]})"
ok_engines=()
for e in "${engine_list[@]}"; do
  log="$out/logs/probe_$e.log"
  if fio --name=probe "${common[@]}" --ioengine="$e" --rw=read --io_size="$bs" --direct="$direct" >"$log" 2>&1; then
    ok_engines+=("$e")
  elif ((direct == 1)) && grep -qiE 'O_DIRECT|Invalid argument|direct' "$log" &&
    fio --name=probe "${common[@]}" --ioengine="$e" --rw=read --io_size="$bs" --direct=0 >"$log" 2>&1; then
    direct=0
    note "O_DIRECT failed here (filesystem, or a block size it cannot align): buffered I/O (direct=0); the page cache is between fio and the device"
    say "  O_DIRECT refused here: buffered I/O"
    ok_engines+=("$e")
  else
    missed "engine $e" "fio cannot run it here (see logs/probe_$e.log)"
  fi
done
((${#ok_engines[@]})) || { echo "$prog: step 'probe engines' failed: no engine works; logs: $out/logs/probe_*.log" >&2; exit 1; }

# ---- the matrix
is_sync() { case "$1" in sync | psync | vsync | pvsync | pvsync2 | mmap) return 0 ;; *) return 1 ;; esac; }
total=0
for r in "${rw_list[@]}"; do for e in "${ok_engines[@]}"; do for q in "${depth_list[@]}"; do for j in "${jobs_list[@]}"; do
  if is_sync "$e" && ((q != 1)); then continue; fi
  total=$((total + 1))
done; done; done; done
cp /proc/interrupts "$out/interrupts/before.txt" && got interrupts_before interrupts/before.txt
# summary.csv: what else ran on the machine during each run (`pvsim validate` splits its errors by it: pvsim models a
# quiet guest). foreign_cpus = the CPUs all tasks used (user + nice + system in /proc/stat, over the fio command's
# wall time) less the CPUs fio used while it measured (its json's usr_cpu + sys_cpu); empty when /proc/stat is not
# readable. Interrupt and softirq time is the I/O's own and is not counted.
echo "run,foreign_cpus" >"$out/summary.csv"
cpu_busy_ticks() { awk '/^cpu /{print $2 + $3 + $4; exit}' /proc/stat 2>/dev/null; }
n=0
for r in "${rw_list[@]}"; do for e in "${ok_engines[@]}"; do for q in "${depth_list[@]}"; do for j in "${jobs_list[@]}"; do
  if is_sync "$e" && ((q != 1)); then continue; fi
  n=$((n + 1))
  name="${r}_${e}_qd${q}_nj${j}"
  say "[$n/$total] fio $r $e iodepth $q numjobs $j (${runtime}s)"
  cp /proc/interrupts "$out/interrupts/$name.before.txt"
  bt_pid="" bt=""
  if ((blktrace_ok)); then
    mkdir -p "$out/blktrace/$name"
    blktrace -d "/dev/$dev" -D "$out/blktrace/$name" -o trace >"$out/logs/blktrace_$name.log" 2>&1 &
    bt_pid=$!
    sleep 0.5
    if ! kill -0 "$bt_pid" 2>/dev/null; then
      missed "blktrace $name" "blktrace exited at once (see logs/blktrace_$name.log)"
      bt_pid="" blktrace_ok=0
    fi
  fi
  busy0=$(cpu_busy_ticks) t0=$(date +%s.%N)
  step "fio $name" "$out/logs/$name.log" fio --name="$name" "${common[@]}" --ioengine="$e" --rw="$r" \
    --iodepth="$q" --numjobs="$j" --direct="$direct" --time_based --runtime="$runtime" --ramp_time="$ramp" \
    --output-format=json+ --output="$out/fio/$name.json"
  if [[ -n $bt_pid ]]; then
    kill -INT "$bt_pid" 2>/dev/null || true
    wait "$bt_pid" 2>/dev/null || true
    bt="blktrace/$name"
    got "blktrace $name" "$bt"
  fi
  busy1=$(cpu_busy_ticks) t1=$(date +%s.%N)
  python3 - "$out/fio/$name.json" "$name" "${busy0:-}" "${busy1:-}" "$t0" "$t1" "$(getconf CLK_TCK 2>/dev/null || echo 100)" \
    >>"$out/summary.csv" 2>>"$out/logs/summary.log" <<'EOF' || echo "$name," >>"$out/summary.csv"
import json, sys
f, name, b0, b1, t0, t1, hz = sys.argv[1:]
jobs = json.load(open(f))["jobs"]
# fio's CPUs while it measured: its CPU seconds (job_runtime sums a group's threads) over the measured span.
fio_cpu_s = sum((j["usr_cpu"] + j["sys_cpu"]) / 100 * j["job_runtime"] / 1000 for j in jobs)
span_s = max(max(j["read"]["runtime"], j["write"]["runtime"]) for j in jobs) / 1000
wall = float(t1) - float(t0)
load = ""
if b0 and b1 and wall > 0 and span_s > 0:
    load = "%.2f" % max(0.0, (int(b1) - int(b0)) / int(hz) / wall - fio_cpu_s / span_s)
print("%s,%s" % (name, load))
EOF
  cp /proc/interrupts "$out/interrupts/$name.after.txt"
  iops=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); j=d["jobs"][0]
print(round(j["read"]["iops"]+j["write"]["iops"]))' "$out/fio/$name.json" 2>/dev/null || echo "?")
  say "  $iops IOPS"
  printf '%s\n' "fio/$name.json|$r|$e|$q|$j|$bs|$runtime|$ramp|$direct|$dev|logs/$name.log|interrupts/$name.before.txt|interrupts/$name.after.txt|$bt" >>"$runs"
done; done; done; done
cp /proc/interrupts "$out/interrupts/after.txt" && got interrupts_after interrupts/after.txt
got guest_load summary.csv

# ---- manifest.json
say "writing $out/manifest.json"
export PVSIM_CAP_OUT="$out" PVSIM_CAP_ROLE="$role" PVSIM_CAP_VIRT="$virt" PVSIM_CAP_CONTAINER="$container"
export PVSIM_CAP_DESC="$description"
export PVSIM_CAP_TARGET="$target" PVSIM_CAP_KIND="$target_kind" PVSIM_CAP_DEV="$dev" PVSIM_CAP_SIZE="$size"
export PVSIM_CAP_DIRECT="$direct" PVSIM_CAP_ENGINES="${ok_engines[*]}" PVSIM_CAP_VERSION="$capture_version"
step "manifest" "$out/logs/manifest.log" python3 - <<'EOF'
import datetime, json, os, platform, socket, subprocess
e = os.environ
out = e["PVSIM_CAP_OUT"]
def read(path, default=None):
    try:
        with open(os.path.join(out, path)) as f:
            return f.read().strip()
    except OSError:
        return default
def table(path):
    rows = []
    for line in (read(path, "") or "").splitlines():
        if line.strip():
            rows.append(line.split("\t", 1) + [""] * (2 - len(line.split("\t", 1))))
    return rows
devices = []
sysfs = os.path.join(out, "sysfs")
for name in sorted(os.listdir(sysfs)):
    base = f"sysfs/{name}"
    queues = []
    mq = os.path.join(sysfs, name, "mq")
    if os.path.isdir(mq):
        for q in sorted(os.listdir(mq), key=int):
            queues.append({"index": int(q), "cpu_list": read(f"{base}/mq/{q}/cpu_list", ""),
                           "nr_tags": int(read(f"{base}/mq/{q}/nr_tags", "0"))})
    sched = read(f"{base}/queue/scheduler")
    active = sched.split("[", 1)[1].split("]", 1)[0] if sched and "[" in sched else sched
    dev = {"name": name, "hw_queues": len(queues), "queues": queues, "scheduler": active,
           "schedulers_available": sched, "sysfs": base}
    nr = read(f"{base}/queue/nr_requests")
    if nr is not None:
        dev["nr_requests"] = int(nr)
    if read(f"{base}/size_sectors") is not None:
        dev["size_sectors"] = int(read(f"{base}/size_sectors"))
    if read(f"{base}/xen_nodename") is not None:
        dev["xen_nodename"] = read(f"{base}/xen_nodename")
    devices.append(dev)
runs = []
for line in (read("logs/runs.tsv", "") or "").splitlines():
    f, rw, eng, qd, nj, bs, rt, ramp, direct, dev, log, ib, ia, bt = line.split("|")
    r = {"file": f, "rw": rw, "ioengine": eng, "iodepth": int(qd), "numjobs": int(nj), "bs": bs,
         "runtime_s": int(rt), "ramp_s": int(ramp), "direct": direct == "1", "log": log,
         "interrupts_before": ib, "interrupts_after": ia}
    if dev:
        r["device"] = dev
    if bt:
        r["blktrace"] = bt
    runs.append(r)
fio_version = subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip()
nproc = int(read("system/nproc.txt", "0") or 0)
target = {"path": e["PVSIM_CAP_TARGET"], "kind": e["PVSIM_CAP_KIND"], "size": e["PVSIM_CAP_SIZE"],
          "direct": e["PVSIM_CAP_DIRECT"] == "1"}
if e["PVSIM_CAP_DEV"]:
    target["device"] = e["PVSIM_CAP_DEV"]
m = {
    "format": "pvsim-bundle",
    "version": 1,
    "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "tool": "pvsim analysis/capture/capture.sh " + e["PVSIM_CAP_VERSION"],
    "system": {"role": e["PVSIM_CAP_ROLE"], "virtualization": e["PVSIM_CAP_VIRT"],
               "container": e["PVSIM_CAP_CONTAINER"], "hostname": socket.gethostname(),
               "kernel": platform.release(), "description": e["PVSIM_CAP_DESC"]},
    "vcpus": nproc,
    "cpu": {"nproc": nproc, "lscpu": "system/lscpu.json" if read("system/lscpu.json") else None,
            "cpuinfo": "system/cpuinfo.txt" if read("system/cpuinfo.txt") else None},
    "target": target,
    "devices": devices,
    "engines": e["PVSIM_CAP_ENGINES"].split(),
    "fio": {"version": fio_version},
    "fio_runs": runs,
    "interrupts": {"before": "interrupts/before.txt", "after": "interrupts/after.txt"},
    "captured": [{"what": w, "file": f} for w, f in table("logs/captured.tsv")],
    "not_captured": [{"what": w, "why": y} for w, y in table("logs/not_captured.tsv")],
    "notes": [l for l in (read("logs/notes.txt", "") or "").splitlines() if l.strip()],
}
if read("xen/xenstore-ls-f.txt") is not None:
    m["xenstore"] = {"file": "xen/xenstore-ls-f.txt"}
if read("device.txt") is not None:
    m["guest_facts"] = {"file": "device.txt"}
if read("qemu/cmdline.txt") is not None:
    m["qemu"] = {"cmdline_file": "qemu/cmdline.txt"}
with open(os.path.join(out, "manifest.json.tmp"), "w") as fh:
    json.dump(m, fh, indent=2)
    fh.write("\n")
os.replace(os.path.join(out, "manifest.json.tmp"), os.path.join(out, "manifest.json"))
EOF
say "done: $n fio runs; bundle $out (check it with: pvsim validate --bundle $out)"
if [[ -s $not_captured ]]; then
  say "not captured:"
  sed 's/\t/: /; s/^/  /' "$not_captured"
fi
