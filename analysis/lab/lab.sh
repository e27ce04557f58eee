#!/usr/bin/env bash
# pvsim lab in a box: builds and runs the REAL Xen 4.17 and QEMU multi-queue drivers on this machine under QEMU
# (Debian's kernel, hypervisor and toolstack) and writes pvsim bundles ("pvsim-bundle" v1, see
# analysis/capture/README.md and README.md beside this script).
set -euo pipefail

readonly lab_version=1
prog=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)
guest_dir=$here/guest
T0=$SECONDS

usage() {
  cat <<EOF
Usage: $prog SUBCOMMAND [options]

Subcommands:
  build   [--cache DIR]                       fetch Debian's kernel/Xen packages and build the lab (cached)
  virtio  --out DIR [options]                 Linux guest, virtio-blk-pci multi-queue on a raw file, fio matrix
  xen-blk --out DIR [options]                 nested Xen 4.17: PV dom0 + PV domU, xen-blkfront/-blkback, fio in domU
  xen-net --out DIR [options]                 nested Xen 4.17: PV domU with a multi-queue vif, iperf3 domU->dom0

Common options:
  --out DIR            bundle directory to write (must be absent or empty)              (run subcommands)
  --cache DIR          build cache              (default: \${PVSIM_LAB_CACHE:-\$HOME/.cache/pvsim-lab})
  --accel auto|tcg|kvm CPU acceleration: auto probes KVM once (cached) and falls back to TCG   (default: auto)
  --timeout S          give up on the guest after S seconds                      (default: from the matrix)

virtio options:
  --queues N           virtio-blk-pci num-queues                                          (default: 2)
  --aio native|io_uring|threads   QEMU AIO engine of the raw file (cache.direct=on)       (default: native)
  --iothreads K        IOThreads for the disk (0 = none; QEMU 7.2 serves one device from one IOThread, so K>1
                       needs a QEMU with iothread-vq-mapping)                                (default: 0)
  --vcpus V            guest vCPUs                                                          (default: 2)
  --memory MIB         guest memory                                                         (default: 2048)

xen-blk options:
  --backend-queues N   xen_blkback max_queues                                               (default: 4)
  --frontend-queues M  xen_blkfront max_queues (domU extra=)                                (default: 4)
  --ring-order K       max_ring_page_order of xen_blkback and xen_blkfront                  (default: 0)
  --persistent on|off  feature_persistent of xen_blkback and xen_blkfront                   (default: on)
  --domu-vcpus V       (default: 4)   --dom0-vcpus V (default: 2)
  --quick              the smallest lab: one fio job (randread, libaio, qd16, nj1, 3 s)

xen-net options:
  --queues N           xen_netfront and xen_netback max_queues                              (default: 2)
  --streams LIST       iperf3 parallel streams, one run each                                (default: 1,2,4)
  --runtime S          seconds per iperf3 run                                               (default: 5)
  --split on|off       xen_netback separate_tx_rx_irq: split Tx/Rx event channels or one     (default: on)
  --domu-vcpus V       (default: 4)   --dom0-vcpus V (default: 2)

fio options (virtio, xen-blk):
  --iodepths LIST (default: 1,16,64)  --numjobs LIST (default: 1,2)  --runtime S (default: 5)
  --ramp S (default: 1)  --rw LIST (default: randread)  --engine E (guest fio ioengine, default: libaio)
  --bs SIZE (default: 4k)

Progress is printed with the elapsed time. Exit status: 0 on success, 1 when a step failed (the message names
the step and its log), 2 for bad options.
EOF
}

die_usage() {
  echo "$prog: $*" >&2
  echo "Try '$prog --help'." >&2
  exit 2
}
say() { printf '[%4ds] %s\n' "$((SECONDS - T0))" "$*"; }
die() {
  echo "$prog: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- options
sub=${1:-}
[[ -n $sub ]] || {
  usage >&2
  exit 2
}
shift
case "$sub" in
-h | --help) usage; exit 0 ;;
build | virtio | xen-blk | xen-net) ;;
*) die_usage "unknown subcommand '$sub'" ;;
esac

cache=${PVSIM_LAB_CACHE:-$HOME/.cache/pvsim-lab}
out="" accel=auto timeout=""
queues="" aio=native iothreads=0 vcpus=2 memory=2048
bq=4 fq=4 ring_order=0 persistent=on domu_vcpus=4 dom0_vcpus=2 quick=0 split=on
streams=1,2,4
iodepths=1,16,64 numjobs=1,2 runtime=5 ramp=1 rws=randread engine=libaio bs=4k
set_opts=()
need() { [[ $# -ge 2 && -n $2 ]] || die_usage "option $1 needs a value"; }
while (($#)); do
  opt=$1
  case "$opt" in
  -h | --help) usage; exit 0 ;;
  --quick) quick=1; set_opts+=(quick) ;;
  --cache | --out | --accel | --timeout | --queues | --aio | --iothreads | --vcpus | --memory | --backend-queues | \
    --frontend-queues | --ring-order | --persistent | --split | --domu-vcpus | --dom0-vcpus | --streams | --iodepths | \
    --numjobs | --runtime | --ramp | --rw | --engine | --bs)
    need "$@"
    v=$2
    shift
    case "$opt" in
    --cache) cache=$v ;;
    --out) out=$v ;;
    --accel) accel=$v ;;
    --timeout) timeout=$v ;;
    --queues) queues=$v ;;
    --aio) aio=$v ;;
    --iothreads) iothreads=$v ;;
    --vcpus) vcpus=$v ;;
    --memory) memory=$v ;;
    --backend-queues) bq=$v ;;
    --frontend-queues) fq=$v ;;
    --ring-order) ring_order=$v ;;
    --persistent) persistent=$v ;;
    --split) split=$v ;;
    --domu-vcpus) domu_vcpus=$v ;;
    --dom0-vcpus) dom0_vcpus=$v ;;
    --streams) streams=$v ;;
    --iodepths) iodepths=$v ;;
    --numjobs) numjobs=$v ;;
    --runtime) runtime=$v ;;
    --ramp) ramp=$v ;;
    --rw) rws=$v ;;
    --engine) engine=$v ;;
    --bs) bs=$v ;;
    esac
    set_opts+=("${opt#--}")
    ;;
  *) die_usage "unknown option '$opt'" ;;
  esac
  shift
done

is_set() { local o; for o in "${set_opts[@]}"; do [[ $o == "$1" ]] && return 0; done; return 1; }
allowed() { # allowed OPTION VARIANT...: OPTION was given only with one of the VARIANTs
  local o=$1
  shift
  is_set "$o" || return 0
  local v
  for v in "$@"; do [[ $sub == "$v" ]] && return 0; done
  die_usage "--$o does not apply to '$sub'"
}
allowed out virtio xen-blk xen-net
allowed queues virtio xen-net
for o in aio iothreads vcpus memory; do allowed "$o" virtio; done
for o in backend-queues frontend-queues ring-order persistent quick; do allowed "$o" xen-blk; done
for o in domu-vcpus dom0-vcpus; do allowed "$o" xen-blk xen-net; done
allowed streams xen-net
for o in iodepths numjobs ramp rw engine bs; do allowed "$o" virtio xen-blk; done
allowed runtime virtio xen-blk xen-net

posint() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die_usage "--$1: expected a positive integer: '$2'"; }
natint() { [[ $2 =~ ^[0-9]+$ ]] || die_usage "--$1: expected a non-negative integer: '$2'"; }
intlist() { [[ $2 =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die_usage "--$1: expected a comma-separated list of positive integers: '$2'"; }
case "$accel" in auto | tcg | kvm) ;; *) die_usage "--accel: auto, tcg or kvm: '$accel'" ;; esac
[[ -z $timeout ]] || posint timeout "$timeout"
if [[ $sub == virtio ]]; then queues=${queues:-2}; else queues=${queues:-2}; fi
posint queues "$queues"
case "$aio" in native | io_uring | threads) ;; *) die_usage "--aio: native, io_uring or threads: '$aio'" ;; esac
natint iothreads "$iothreads"
posint vcpus "$vcpus"
posint memory "$memory"
posint backend-queues "$bq"
posint frontend-queues "$fq"
natint ring-order "$ring_order"
((ring_order <= 4)) || die_usage "--ring-order: 0..4 (Xen's XENBUS_MAX_RING_GRANT_ORDER is 4): '$ring_order'"
case "$persistent" in on | off) ;; *) die_usage "--persistent: on or off: '$persistent'" ;; esac
case "$split" in on | off) ;; *) die_usage "--split: on or off: '$split'" ;; esac
posint domu-vcpus "$domu_vcpus"
posint dom0-vcpus "$dom0_vcpus"
intlist streams "$streams"
intlist iodepths "$iodepths"
intlist numjobs "$numjobs"
posint runtime "$runtime"
natint ramp "$ramp"
[[ $rws =~ ^(read|randread|write|randwrite|rw|randrw)(,(read|randread|write|randwrite|rw|randrw))*$ ]] ||
  die_usage "--rw: comma-separated list of read, randread, write, randwrite, rw, randrw: '$rws'"
[[ $engine =~ ^(libaio|io_uring|psync|sync|pvsync2)$ ]] || die_usage "--engine: libaio, io_uring, psync, sync or pvsync2: '$engine'"
[[ $bs =~ ^[1-9][0-9]*[kKmM]?$ ]] || die_usage "--bs: a size like 4k: '$bs'"
if [[ $engine =~ ^(psync|sync|pvsync2)$ && $iodepths != 1 ]]; then
  die_usage "--engine $engine is synchronous: use --iodepths 1 (parallelism comes from --numjobs)"
fi
if [[ $sub == xen-net ]] && ! is_set runtime; then runtime=5; fi
if ((quick)); then
  for o in iodepths numjobs runtime rw engine bs ramp; do
    is_set "$o" && die_usage "--quick fixes the fio job (randread, libaio, qd16, nj1, 3 s): --$o not allowed with it"
  done
  iodepths=16 numjobs=1 runtime=3 ramp=0 rws=randread engine=libaio bs=4k
fi
if [[ $sub != build ]]; then
  [[ -n $out ]] || die_usage "--out DIR is required"
  if [[ -e $out ]] && [[ -n $(ls -A "$out" 2>/dev/null) ]]; then
    die_usage "output directory '$out' exists and is not empty"
  fi
fi
if [[ $sub == virtio ]] && ((iothreads > 1)); then
  : # checked against the QEMU version once it is installed (see run_virtio)
fi
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, mkfs.ext4 -d of a root tree, apt-get)"

# ---------------------------------------------------------------- steps, logs, cache
mkdir -p "$cache"/{logs,debs,stamps}
cache=$(cd "$cache" && pwd)
timings_file=$(mktemp)
trap 'rm -f "$timings_file"' EXIT

# step NAME LOG CMD...: runs CMD with output in LOG; on failure names the step and the log, exits 1
step() {
  local name=$1 log=$2
  shift 2
  local rc t=$SECONDS
  # a subshell outside any || context, so that set -e applies inside and exit stays there
  set +e
  (
    set -e
    "$@"
  ) >"$log" 2>&1
  rc=$?
  set -e
  if ((rc != 0)); then
    echo "$prog: step '$name' failed (exit $rc); log: $log" >&2
    tail -n 8 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
  printf '%s\t%s\n' "$name" "$((SECONDS - t))" >>"$timings_file"
}
key_of() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }
# cached NAME OUTPUT KEY FUNC: runs FUNC (output in logs/NAME.log) unless OUTPUT exists with the same KEY
cached() {
  local name=$1 output=$2 key=$3 fn=$4 stamp=$cache/stamps/$1
  if [[ -e $output && -r $stamp && $(cat "$stamp") == "$key" ]]; then
    say "build: $name (cached)"
    printf '%s\t%s\n' "build: $name (cached)" 0 >>"$timings_file"
    return 0
  fi
  say "build: $name ..."
  rm -f "$stamp"
  step "build: $name" "$cache/logs/$name.log" "$fn"
  echo "$key" >"$stamp"
  say "build: $name done ($(awk -F'\t' -v n="build: $name" '$1==n{s=$2} END{print s}' "$timings_file") s)"
}

# ---------------------------------------------------------------- build
host_packages=(qemu-system-x86 qemu-utils busybox-static fio debootstrap e2fsprogs iperf3 kmod cpio gzip
  coreutils util-linux)
ensure_host_packages() {
  local missing=() p
  for p in "${host_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

resolve_versions() {
  # the current kernel ABI: what Debian's linux-image-amd64 metapackage depends on (never hard-coded)
  abi=$(apt-cache depends linux-image-amd64 2>/dev/null | grep -o 'linux-image-6\.1\.0-[0-9]*-amd64' | head -n 1 || true)
  if [[ -z $abi ]]; then
    apt-get update -q >"$cache/logs/apt-update.log" 2>&1 || true
    abi=$(apt-cache depends linux-image-amd64 2>/dev/null | grep -o 'linux-image-6\.1\.0-[0-9]*-amd64' | head -n 1 || true)
  fi
  [[ -n $abi ]] || die "step 'resolve versions' failed: no linux-image-6.1.0-*-amd64 known to apt (apt-get update?)"
  kpkg=$abi
  abi=${abi#linux-image-}
  kver=$(apt-cache policy "$kpkg" | awk '/Candidate:/{print $2}')
  xenver=$(apt-cache policy xen-hypervisor-4.17-amd64 | awk '/Candidate:/{print $2}')
  [[ -n $xenver && $xenver != "(none)" ]] || die "step 'resolve versions' failed: xen-hypervisor-4.17-amd64 unknown to apt"
  # xen-utils-4.17 must be exactly the hypervisor's version
  if ! apt-cache madison xen-utils-4.17 | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$xenver"; then
    die "step 'resolve versions' failed: xen-utils-4.17 $xenver (the hypervisor's version) is not available"
  fi
  busybox_ver=$(dpkg-query -W -f='${Version}' busybox-static)
  fio_ver=$(dpkg-query -W -f='${Version}' fio)
  iperf_ver=$(dpkg-query -W -f='${Version}' iperf3)
  qemu_version=$(qemu-system-x86_64 --version | head -n 1)
}

fetch_debs() {
  cd "$cache/debs"
  apt-get download "$kpkg=$kver" "xen-hypervisor-4.17-amd64=$xenver" "xen-utils-4.17=$xenver"
  ls -la
}
deb_file() { ls "$cache/debs/$1"_*.deb 2>/dev/null | head -n 1; }

extract_kernel() {
  local tmp=$cache/kernel-$abi.tmp
  rm -rf "$tmp" "$cache/kernel-$abi"
  mkdir -p "$tmp"
  dpkg-deb -x "$(deb_file "$kpkg")" "$tmp/x"
  mkdir -p "$tmp/k"
  cp "$tmp/x/boot/vmlinuz-$abi" "$tmp/k/vmlinuz"
  cp "$tmp/x/boot/config-$abi" "$tmp/k/config"
  mkdir -p "$tmp/k/lib/modules"
  mv "$tmp/x/lib/modules/$abi" "$tmp/k/lib/modules/$abi"
  # the package does not ship modules.dep (its postinst runs depmod)
  depmod -b "$tmp/k" "$abi"
  mv "$tmp/k" "$cache/kernel-$abi"
  rm -rf "$tmp"
}

extract_xen() {
  local tmp=$cache/xen-$xenver.tmp
  rm -rf "$tmp" "$cache/xen-$xenver"
  mkdir -p "$tmp"
  dpkg-deb -x "$(deb_file xen-hypervisor-4.17-amd64)" "$tmp/x"
  mkdir -p "$tmp/out"
  # gunzipped xen.gz is a 32-bit multiboot ELF that qemu -kernel boots directly
  gzip -dc "$tmp"/x/boot/xen-4.17-amd64.gz >"$tmp/out/xen"
  cp "$tmp"/x/boot/xen-4.17-amd64.config "$tmp/out/xen.config" 2>/dev/null || true
  file_type=$(head -c 4 "$tmp/out/xen" | od -An -c | tr -d ' ')
  [[ $file_type == 177ELF ]] || { echo "xen image is not an ELF file"; exit 1; }
  mv "$tmp/out" "$cache/xen-$xenver"
  rm -rf "$tmp"
}

# the modules every lab guest needs (with their dependencies, from modules.dep)
lab_modules=(virtio_pci virtio_blk virtio_net ext4 crc32c_generic xen-blkfront xen-blkback xen-netfront xen-netback xen-evtchn
  xen-gntdev xen-gntalloc xen-privcmd xenfs)
build_modules() {
  local src=$cache/kernel-$abi/lib/modules/$abi dst=$cache/modules-$abi.tmp
  rm -rf "$dst" "$cache/modules-$abi"
  mkdir -p "$dst/lib/modules/$abi"
  local -A want=()
  local m f dep
  # modules.dep lines: "kernel/path/mod.ko: kernel/dep1.ko kernel/dep2.ko"
  for m in "${lab_modules[@]}"; do
    f=$(awk -F: -v m="$m" '{n=$1; sub(/.*\//,"",n); sub(/\.ko(\..*)?$/,"",n); gsub(/-/,"_",n); mm=m; gsub(/-/,"_",mm);
        if (n==mm) {print $0; exit}}' "$src/modules.dep")
    if [[ -z $f ]]; then
      if grep -qE "/${m//-/[-_]}\.ko" "$src/modules.builtin"; then echo "$m: built in"; continue; fi
      echo "module $m not found in modules.dep or modules.builtin"
      exit 1
    fi
    for dep in ${f/:/ }; do want[$dep]=1; done
  done
  for f in "${!want[@]}"; do
    mkdir -p "$dst/lib/modules/$abi/$(dirname "$f")"
    cp "$src/$f" "$dst/lib/modules/$abi/$f"
  done
  cp "$src"/modules.order "$src"/modules.builtin* "$dst/lib/modules/$abi/" 2>/dev/null || true
  depmod -b "$dst" "$abi"
  printf '%s\n' "${!want[@]}" | sort
  mv "$dst" "$cache/modules-$abi"
}

copy_with_libs() { # copy_with_libs ROOT BINARY...: BINARY and its shared libraries (ldd) into ROOT, same paths
  local root=$1 b lib
  shift
  for b in "$@"; do
    mkdir -p "$root/$(dirname "$b")"
    cp -L "$b" "$root/$b"
    for lib in $(ldd "$b" 2>/dev/null | grep -oE '/[^ ]+' || true); do
      [[ -e $lib ]] || continue
      mkdir -p "$root/$(dirname "$lib")"
      [[ -e $root/$lib ]] || cp -L "$lib" "$root/$lib"
    done
  done
}

make_initramfs() { # make_initramfs OUTPUT FULL(0|1)
  local output=$1 full=$2 root
  root=$(mktemp -d "$cache/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib,lib64,out,newroot}
  cp /bin/busybox "$root/bin/busybox"
  local a
  for a in $(/bin/busybox --list); do
    [[ -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a"
  done
  # the kernel runs /sbin/modprobe for modules it requests itself (crc32c for ext4)
  for a in modprobe insmod rmmod lsmod depmod modinfo switch_root poweroff reboot halt; do
    [[ -e $root/sbin/$a ]] || ln -s ../bin/busybox "$root/sbin/$a"
  done
  cp "$guest_dir/init" "$root/init"
  chmod 755 "$root/init"
  if ((full)); then
    cp -a "$cache/modules-$abi/lib/modules" "$root/lib/"
    copy_with_libs "$root" "$(command -v fio)" "$(command -v iperf3)"
    ln -sf "$(command -v fio)" "$root/bin/fio" 2>/dev/null || true
    ln -sf "$(command -v iperf3)" "$root/bin/iperf3" 2>/dev/null || true
    echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
    echo "root:x:0:" >"$root/etc/group"
  fi
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$output.tmp"
  rm -rf "$root"
  mv "$output.tmp" "$output"
  ls -la "$output"
}
build_initramfs() { make_initramfs "$cache/initramfs.cpio.gz" 1; }
build_probe_initramfs() { make_initramfs "$cache/probe.cpio.gz" 0; }

dom0_packages=(xenstore-utils blktrace iperf3 kmod iproute2 procps python3-minimal gzip util-linux)
build_dom0_base() {
  local dir=$cache/dom0-base.tmp
  if [[ -d $dir ]]; then
    for m in dev/pts dev proc sys; do umount "$dir/$m" 2>/dev/null || true; done
    rm -rf "$dir"
  fi
  rm -rf "$cache/dom0-base"
  # the mirror the host uses for bookworm
  local mirror
  mirror=$(grep -rhoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n 1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "mirror $mirror"
  debootstrap --variant=minbase --include=debian-archive-keyring bookworm "$dir" "$mirror"
  # same package sources as the host (bookworm, -updates, -security) so the toolstack matches the hypervisor
  local f
  rm -f "$dir/etc/apt/sources.list"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    if grep -qE 'debian\.org/debian|debian-security' "$f" && ! grep -qE 'google|nodesource' "$f"; then
      cp "$f" "$dir/etc/apt/sources.list.d/$(basename "$f")"
    fi
  done
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  mount --bind /dev "$dir/dev"
  mount -t proc proc "$dir/proc"
  cp "$(deb_file xen-utils-4.17)" "$dir/tmp/"
  local rc=0
  {
    chroot "$dir" apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get install -y -q --no-install-recommends \
        "/tmp/$(basename "$(deb_file xen-utils-4.17)")" "${dom0_packages[@]}"
  } || rc=$?
  umount "$dir/proc" "$dir/dev"
  ((rc == 0)) || exit $rc
  local got
  got=$(chroot "$dir" dpkg-query -W -f='${Version}' xen-utils-4.17)
  [[ $got == "$xenver" ]] || { echo "dom0 xen-utils-4.17 is $got, hypervisor is $xenver"; exit 1; }
  chroot "$dir" apt-get clean
  rm -rf "$dir"/tmp/* "$dir"/var/lib/apt/lists/* "$dir/usr/sbin/policy-rc.d"
  echo "dom0" >"$dir/etc/hostname"
  du -sh "$dir"
  mv "$dir" "$cache/dom0-base"
}

build_dom0_image() {
  local stage=$cache/dom0-stage img=$cache/dom0-root.ext4
  rm -rf "$stage" "$img"
  cp -a "$cache/dom0-base" "$stage"
  rm -rf "$stage/lib/modules/$abi" "$stage/usr/lib/modules/$abi"
  mkdir -p "$stage/lib/modules"
  cp -a "$cache/modules-$abi/lib/modules/$abi" "$stage/lib/modules/"
  mkdir -p "$stage/lab" "$stage/out"
  local mb
  mb=$(du -sm "$stage" | cut -f1)
  mb=$((mb * 13 / 10 + 256))
  mkfs.ext4 -q -F -L pvsim-dom0 -d "$stage" "$img.tmp" "${mb}M"
  rm -rf "$stage"
  mv "$img.tmp" "$img"
  ls -la "$img"
}

data_size_mib=1024
build_data_disk() {
  # real (non-sparse) zeroed blocks, so reads reach the host's disk or page cache rather than a hole
  dd if=/dev/zero of="$cache/data.raw.tmp" bs=1M count=$data_size_mib conv=fsync status=none
  mv "$cache/data.raw.tmp" "$cache/data.raw"
  ls -la "$cache/data.raw"
}

do_build() {
  say "build: cache $cache"
  step "build: host packages" "$cache/logs/host-packages.log" ensure_host_packages
  resolve_versions
  say "build: kernel $abi ($kver), Xen $xenver, $qemu_version"
  local dl_key
  dl_key=$(key_of "$kpkg=$kver" "$xenver")
  if [[ -n $(deb_file "$kpkg") && -n $(deb_file xen-hypervisor-4.17-amd64) && -n $(deb_file xen-utils-4.17) &&
    -r $cache/stamps/fetch && $(cat "$cache/stamps/fetch") == "$dl_key" ]]; then
    say "build: fetch (cached)"
  else
    rm -f "$cache"/debs/*.deb
    say "build: fetch $kpkg, xen-hypervisor-4.17-amd64, xen-utils-4.17 ($xenver) ..."
    step "build: fetch" "$cache/logs/fetch.log" fetch_debs
    echo "$dl_key" >"$cache/stamps/fetch"
  fi
  cached kernel "$cache/kernel-$abi/vmlinuz" "$(key_of "$kpkg=$kver" v2)" extract_kernel
  cached xen "$cache/xen-$xenver/xen" "$(key_of "$xenver")" extract_xen
  modules_key=$(key_of "$kpkg=$kver" "${lab_modules[@]}")
  cached modules "$cache/modules-$abi/lib/modules/$abi/modules.dep" "$modules_key" build_modules
  local init_sha
  init_sha=$(sha256sum "$guest_dir/init" | cut -c1-16)
  cached initramfs "$cache/initramfs.cpio.gz" \
    "$(key_of "$modules_key" "$init_sha" "$busybox_ver" "$fio_ver" "$iperf_ver" v1)" build_initramfs
  cached probe-initramfs "$cache/probe.cpio.gz" "$(key_of "$init_sha" "$busybox_ver" v1)" build_probe_initramfs
  local base_key
  base_key=$(key_of bookworm minbase "$xenver" "${dom0_packages[@]}" v1)
  cached dom0-base "$cache/dom0-base/usr/lib/xen-4.17/bin/xl" "$base_key" build_dom0_base
  cached dom0-image "$cache/dom0-root.ext4" "$(key_of "$base_key" "$modules_key" v1)" build_dom0_image
  cached data-disk "$cache/data.raw" "$(key_of "$data_size_mib" zero v1)" build_data_disk
  local used
  used=$(du -sh "$cache" 2>/dev/null | cut -f1)
  say "build: ready (cache $cache, $used)"
}

# ---------------------------------------------------------------- acceleration
kvm_probe_result="" accel_used=""
probe_kvm() {
  local f=$cache/kvm-probe.txt key
  key=$(key_of "$qemu_version" "$abi" "$(uname -r)" "$(grep -m1 -o -wE 'vmx|svm' /proc/cpuinfo || echo none)" \
    "$(ls -l /dev/kvm 2>/dev/null || echo nokvm)" "$(hostname)")
  if [[ -r $f ]] && [[ $(sed -n 1p "$f") == "$key" ]]; then
    kvm_probe_result=$(sed -n 3p "$f")
    say "accel: KVM probe (cached): $kvm_probe_result"
    [[ $(sed -n 2p "$f") == ok ]]
    return
  fi
  local ok=fail outcome t=$SECONDS
  if [[ ! -e /dev/kvm ]]; then
    outcome="no /dev/kvm"
  elif ! [[ -r /dev/kvm && -w /dev/kvm ]]; then
    outcome="/dev/kvm is not accessible"
  else
    say "accel: probing KVM (boot the lab kernel under -accel kvm -cpu host, 60 s at most) ..."
    local log=$cache/logs/kvm-probe.serial log2=$cache/logs/kvm-probe.log rc=0
    rm -f "$log"
    timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 512 -smp 1 -display none -nodefaults -no-reboot \
      -serial "file:$log" -kernel "$cache/kernel-$abi/vmlinuz" -initrd "$cache/probe.cpio.gz" \
      -append "console=ttyS0 lab.role=probe panic=-1" >"$log2" 2>&1 || rc=$?
    if grep -q PVSIM-LAB-PROBE-OK "$log" 2>/dev/null; then
      ok=ok
      outcome="KVM works: the lab kernel booted to its init under -accel kvm -cpu host in $((SECONDS - t)) s"
    elif ((rc == 124)); then
      outcome="no boot marker within 60 s under -accel kvm -cpu host (guest hung; console: $(tr -d '\r' <"$log" 2>/dev/null | grep -av '^$' | tail -n 1 | cut -c1-120 | grep . || echo empty))"
    else
      outcome="qemu -accel kvm exited with status $rc before the boot marker: $(grep -av '^$' "$log2" | tail -n 1 | cut -c1-160)"
    fi
  fi
  kvm_probe_result=$outcome
  printf '%s\t%s\n' "accel: KVM probe" "$((SECONDS - t))" >>"$timings_file"
  printf '%s\n%s\n%s\n' "$key" "$ok" "$outcome" >"$f"
  say "accel: KVM probe: $outcome"
  [[ $ok == ok ]]
}
choose_accel() {
  case "$accel" in
  tcg) accel_used=tcg kvm_probe_result="not probed (--accel tcg)" ;;
  kvm) accel_used=kvm kvm_probe_result="not probed (--accel kvm)" ;;
  auto)
    if probe_kvm; then accel_used=kvm; else accel_used=tcg; fi
    ;;
  esac
  say "accel: $accel_used"
}
accel_args() { # accel_args CPU_TCG: the -accel/-cpu arguments
  if [[ $accel_used == kvm ]]; then
    printf '%s\n' -accel kvm -cpu host
  else
    printf '%s\n' -accel tcg,thread=multi -cpu "$1"
  fi
}

# ---------------------------------------------------------------- running a machine
# run_machine LABEL TIMEOUT SERIAL_LOG CMDLINE_FILE: starts QEMU (one argument per line in CMDLINE_FILE), follows
# its serial console and prints the guest's PVSIM-STEP lines with the elapsed time; returns when QEMU exits.
guest_failed="" guest_done=0
run_machine() {
  local label=$1 tmo=$2 serial=$3 cmdfile=$4 t=$SECONDS
  local -a cmd
  mapfile -t cmd <"$cmdfile"
  : >"$serial"
  "${cmd[@]}" >"$run_dir/qemu.stdout" 2>"$run_dir/qemu.stderr" &
  local pid=$! seen=0 n line txt
  printf '%s\t%s\n' "$label: boot (QEMU start to the first guest step)" "$((SECONDS - T0))" >>"$run_dir/timeline.tsv"
  while :; do
    local alive=1
    kill -0 "$pid" 2>/dev/null || alive=0
    n=$(wc -l <"$serial")
    if ((n > seen)); then
      while IFS= read -r line; do
        line=${line//$'\r'/}
        case "$line" in
        *PVSIM-STEP*)
          txt=${line#*PVSIM-STEP }
          say "$label: $txt"
          printf '%s\t%s\n' "$txt" "$((SECONDS - T0))" >>"$run_dir/timeline.tsv"
          ;;
        *PVSIM-FAIL*)
          txt=${line#*PVSIM-FAIL }
          say "$label: FAILED: $txt"
          guest_failed+="$txt; "
          ;;
        *PVSIM-DONE*) guest_done=1 ;;
        esac
      done < <(sed -n "$((seen + 1)),${n}p" "$serial")
      seen=$n
    fi
    ((alive)) || break
    if ((SECONDS - t > tmo)); then
      kill "$pid" 2>/dev/null || true
      sleep 2
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      echo "$prog: step '$label: guest run' failed: no end after ${tmo}s (killed QEMU); console log: $serial" >&2
      tail -n 15 "$serial" | tr -d '\r' | sed 's/^/  | /' >&2
      exit 1
    fi
    sleep 1
  done
  local rc=0
  wait "$pid" || rc=$?
  printf '%s\t%s\n' "$label: qemu exit" "$((SECONDS - T0))" >>"$run_dir/timeline.tsv"
  if ((rc != 0)); then
    echo "$prog: step '$label: guest run' failed: QEMU exited with status $rc; log: $run_dir/qemu.stderr, console: $serial" >&2
    tail -n 5 "$run_dir/qemu.stderr" | sed 's/^/  | /' >&2
    exit 1
  fi
}

count_list() { local IFS=,; set -- $1; echo $#; }
fio_total() { echo $(($(count_list "$rws") * $(count_list "$iodepths") * $(count_list "$numjobs"))); }

new_run_dir() {
  # keep the working folders of the last 10 runs (console logs, results disk of failed runs)
  local old
  for old in $(ls -1dt "$cache"/runs/*/ 2>/dev/null | tail -n +10); do rm -rf "$old"; done
  run_dir=$cache/runs/$sub-$(date +%Y%m%d-%H%M%S)-$$
  mkdir -p "$run_dir/results"
  : >"$run_dir/timeline.tsv"
}
write_io_disk() { # write_io_disk FILES_DIR: the config/results disk = a tar of FILES_DIR padded to 512 MiB
  tar cf "$run_dir/io.img" -C "$1" .
  truncate -s 512M "$run_dir/io.img"
}
read_io_disk() {
  tar xf "$run_dir/io.img" -C "$run_dir/results" 2>"$run_dir/untar.log" ||
    die "step 'read results disk' failed: see $run_dir/untar.log"
}

# ---------------------------------------------------------------- bundle
write_bundle() { # write_bundle VARIANT: assemble the bundle from $run_dir/results into $out, write manifest.json
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  local meta=$run_dir/meta.json
  local -a kv=()
  local o
  for o in "${!opts[@]}"; do kv+=("$o=${opts[$o]}"); done
  local total_s=$((SECONDS - T0))
  L_VARIANT=$sub L_VERSION=$lab_version L_CACHE=$cache L_RUN_DIR=$run_dir L_ACCEL=$accel_used \
    L_KVM_PROBE=$kvm_probe_result L_MACHINE_CPUS=${machine_cpus:-0} L_MACHINE_MEM=${machine_mem:-0} \
    L_QEMU_VERSION=$qemu_version L_NPROC=$(nproc) L_ABI=$abi L_XENVER=$xenver L_TOTAL=$total_s \
    L_GUEST_FAILED=$guest_failed L_DOM0_MEM=${dom0_mem:-0} L_DOMU_MEM=${domu_mem:-0} L_GUEST_MEM=$memory \
    L_DATA_SIZE=$(stat -c %s "$cache/data.raw") L_BUILD_TIMINGS=$timings_file L_TIMELINE=$run_dir/timeline.tsv \
    /usr/bin/python3 - "$meta" "${kv[@]}" <<'EOF'
import json, os, sys
e = os.environ
opts = {}
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    if k in ("iodepths", "numjobs", "streams"):
        v = [int(x) for x in v.split(",")]
    elif k != "rw":
        try:
            v = int(v)
        except ValueError:
            pass
    opts[k] = v
def tsv(path):
    rows = []
    with open(path) as f:
        for line in f:
            if "\t" in line:
                k, v = line.rstrip("\n").rsplit("\t", 1)
                rows.append([k, int(v)])
    return rows
meta = {
    "variant": e["L_VARIANT"], "tool_version": int(e["L_VERSION"]), "cache": e["L_CACHE"], "run_dir": e["L_RUN_DIR"],
    "accel": e["L_ACCEL"], "kvm_probe": e["L_KVM_PROBE"], "machine_cpus": int(e["L_MACHINE_CPUS"]),
    "machine_memory_mib": int(e["L_MACHINE_MEM"]), "qemu_version": e["L_QEMU_VERSION"],
    "physical_cores": int(e["L_NPROC"]), "kernel_abi": e["L_ABI"], "xen_package_version": e["L_XENVER"],
    "options": dict(sorted(opts.items())), "total_s": int(e["L_TOTAL"]), "guest_failed": e["L_GUEST_FAILED"],
    "dom0_memory_mib": int(e["L_DOM0_MEM"]), "domU_memory_mib": int(e["L_DOMU_MEM"]),
    "guest_memory_mib": int(e["L_GUEST_MEM"]), "data_file_size": int(e["L_DATA_SIZE"]),
    "data_file": e["L_CACHE"] + "/data.raw",
    "build_timings": tsv(e["L_BUILD_TIMINGS"]), "timeline": tsv(e["L_TIMELINE"]),
}
with open(sys.argv[1], "w") as f:
    json.dump(meta, f, indent=1)
EOF
  step "write bundle" "$run_dir/bundle.log" /usr/bin/python3 "$here/bundle.py" "$meta" "$run_dir/results" "$out"
  say "bundle: $out ($(du -sh "$out" | cut -f1))"
  sed 's/^/  /' "$run_dir/bundle.log"
}

# ---------------------------------------------------------------- variants
declare -A opts=()
run_virtio() {
  opts=([queues]=$queues [aio]=$aio [iothreads]=$iothreads [vcpus]=$vcpus [memory_mib]=$memory
    [iodepths]=$iodepths [numjobs]=$numjobs [runtime]=$runtime [ramp]=$ramp [rw]=$rws [engine]=$engine [bs]=$bs
    [accel]=$accel)
  [[ -n $timeout ]] && opts[timeout]=$timeout
  if ((iothreads > 1)) && ! qemu-system-x86_64 -device virtio-blk-pci,help 2>/dev/null | grep -q iothread-vq-mapping; then
    die_usage "--iothreads $iothreads: this QEMU ($qemu_version) serves a virtio-blk device from one IOThread (no iothread-vq-mapping): use 0 or 1"
  fi
  choose_accel
  new_run_dir
  machine_cpus=$vcpus machine_mem=$memory
  local cfg=$run_dir/cfg
  mkdir -p "$cfg"
  cat >"$cfg/config.sh" <<EOF
RWS=$rws
IODEPTHS=$iodepths
NUMJOBS=$numjobs
RUNTIME=$runtime
RAMP=$ramp
ENGINE=$engine
BS=$bs
EOF
  write_io_disk "$cfg"
  local cmdf=$run_dir/cmdline.txt
  {
    echo qemu-system-x86_64
    printf '%s\n' -machine pc
    accel_args max
    printf '%s\n' -smp "$vcpus" -m "$memory" -display none -nodefaults -no-reboot -nic none \
      -serial "file:$run_dir/serial.log" \
      -kernel "$cache/kernel-$abi/vmlinuz" -initrd "$cache/initramfs.cpio.gz" \
      -append "console=ttyS0 loglevel=4 lab.role=virtio"
    local it=""
    if ((iothreads >= 1)); then
      local i
      for ((i = 0; i < iothreads; i++)); do printf '%s\n' -object "iothread,id=iot$i"; done
      if ((iothreads == 1)); then
        it=",iothread=iot0"
      fi
    fi
    printf '%s\n' -blockdev \
      "driver=file,filename=$cache/data.raw,node-name=data-file,cache.direct=on,cache.no-flush=off,aio=$aio" \
      -blockdev "driver=raw,file=data-file,node-name=data"
    if ((iothreads > 1)); then
      local map="" i
      for ((i = 0; i < iothreads; i++)); do map+="${map:+,}{\"iothread\":\"iot$i\"}"; done
      printf '%s\n' -device "{\"driver\":\"virtio-blk-pci\",\"drive\":\"data\",\"num-queues\":$queues,\"serial\":\"pvsimdata\",\"addr\":\"0x4\",\"iothread-vq-mapping\":[$map]}"
    else
      printf '%s\n' -device "virtio-blk-pci,drive=data,num-queues=$queues,serial=pvsimdata,addr=0x4$it"
    fi
    printf '%s\n' -drive "file=$run_dir/io.img,format=raw,if=none,id=io,cache=unsafe" \
      -device "virtio-blk-pci,drive=io,serial=pvsimio,addr=0x5"
  } >"$cmdf"
  local tmo=${timeout:-$((300 + $(fio_total) * (runtime + ramp + 60)))}
  say "virtio: booting the guest ($vcpus vCPUs, virtio-blk num-queues=$queues, aio=$aio, iothreads=$iothreads; $(fio_total) fio runs)"
  run_machine virtio "$tmo" "$run_dir/serial.log" "$cmdf"
  read_io_disk
  [[ -r $run_dir/results/status ]] || die "step 'virtio: guest run' failed: the guest wrote no results (${guest_failed:-see the console}); console: $run_dir/serial.log"
  mkdir -p "$run_dir/results/qemu" "$run_dir/results/logs"
  cp "$cmdf" "$run_dir/results/qemu/cmdline.txt"
  cp "$run_dir/serial.log" "$run_dir/results/logs/serial.log"
  write_bundle virtio
  rm -f "$run_dir/io.img"
}

run_xen() {
  local variant=$sub
  if [[ $variant == xen-blk ]]; then
    opts=([backend_queues]=$bq [frontend_queues]=$fq [ring_order]=$ring_order [persistent]=$persistent
      [domu_vcpus]=$domu_vcpus [dom0_vcpus]=$dom0_vcpus [iodepths]=$iodepths [numjobs]=$numjobs [runtime]=$runtime
      [ramp]=$ramp [rw]=$rws [engine]=$engine [bs]=$bs [quick]=$quick [accel]=$accel)
  else
    opts=([queues]=$queues [split]=$split [streams]=$streams [runtime]=$runtime [domu_vcpus]=$domu_vcpus
      [dom0_vcpus]=$dom0_vcpus [accel]=$accel)
  fi
  [[ -n $timeout ]] && opts[timeout]=$timeout
  choose_accel
  new_run_dir
  # outer machine: 4 CPUs at least (a 4-vCPU domU stalled with -smp 2), room for dom0 + domU
  machine_cpus=$((domu_vcpus > 4 ? domu_vcpus : 4))
  ((machine_cpus >= dom0_vcpus)) || machine_cpus=$dom0_vcpus
  dom0_mem=1024 domu_mem=768
  machine_mem=$((dom0_mem + domu_mem + 1024))
  # which parameters the frontend module has (checked on the extracted module, not assumed)
  local fe_ko front_has_order=0 front_has_persist=0
  fe_ko=$(find "$cache/kernel-$abi/lib/modules" -name 'xen-blkfront.ko*' | head -n 1)
  /sbin/modinfo -F parm "$fe_ko" 2>/dev/null | grep -q '^max_ring_page_order:' && front_has_order=1
  /sbin/modinfo -F parm "$fe_ko" 2>/dev/null | grep -q '^feature_persistent:' && front_has_persist=1
  local be_ko
  be_ko=$(find "$cache/kernel-$abi/lib/modules" -name 'xen-blkback.ko*' | head -n 1)
  /sbin/modinfo -F parm "$be_ko" >"$run_dir/blkback-parm.txt" 2>/dev/null || true
  /sbin/modinfo -F parm "$fe_ko" >"$run_dir/blkfront-parm.txt" 2>/dev/null || true
  local domu_timeout=$((600 + $(fio_total) * (runtime + ramp + 90)))
  [[ $variant == xen-net ]] && domu_timeout=$((600 + $(count_list "$streams") * (runtime + 90)))
  local cfg=$run_dir/cfg
  mkdir -p "$cfg"
  cat >"$cfg/config.sh" <<EOF
VARIANT=$variant
DATA_DEV=vdb
BQ=$bq
FQ=$fq
ORDER=$ring_order
PERSIST=$([[ $persistent == on ]] && echo 1 || echo 0)
FRONT_HAS_ORDER=$front_has_order
FRONT_HAS_PERSIST=$front_has_persist
DOMU_VCPUS=$domu_vcpus
DOMU_MEM=$domu_mem
RWS=$rws
IODEPTHS=$iodepths
NUMJOBS=$numjobs
RUNTIME=$runtime
RAMP=$ramp
ENGINE=$engine
BS=$bs
NETQ=$queues
NETSPLIT=$([[ $split == on ]] && echo 1 || echo 0)
STREAMS=$streams
DURATION=$runtime
DOM0_IP=169.254.99.1
DOMU_IP=169.254.99.2
DOMU_TIMEOUT=$domu_timeout
BLKPARSE_MAX_LINES=400000
BLKPARSE_NAME=dom0-vdb.blkparse.txt
EOF
  cp "$guest_dir/dom0-init.sh" "$guest_dir/block-min" "$guest_dir/vif-min" "$guest_dir/extract-console.py" "$cfg/"
  cp "$cache/kernel-$abi/vmlinuz" "$cfg/vmlinuz"
  cp "$cache/initramfs.cpio.gz" "$cfg/initramfs.cpio.gz"
  write_io_disk "$cfg"
  local cmdf=$run_dir/cmdline.txt
  {
    echo qemu-system-x86_64
    printf '%s\n' -machine pc
    accel_args max,-smap,-smep
    printf '%s\n' -smp "$machine_cpus" -m "$machine_mem" -display none -nodefaults -no-reboot -nic none \
      -serial "file:$run_dir/serial.log" \
      -kernel "$cache/xen-$xenver/xen" \
      -append "console=com1 com1=115200,8n1 dom0_mem=${dom0_mem}M,max:${dom0_mem}M dom0_max_vcpus=$dom0_vcpus loglvl=warning guest_loglvl=warning" \
      -initrd "$cache/kernel-$abi/vmlinuz console=hvc0 earlyprintk=xen loglevel=4 lab.role=dom0,$cache/initramfs.cpio.gz" \
      -drive "file=$cache/dom0-root.ext4,format=raw,if=none,id=root,snapshot=on" \
      -device "virtio-blk-pci,drive=root,serial=pvsimroot,addr=0x4" \
      -blockdev "driver=file,filename=$cache/data.raw,node-name=data-file,cache.direct=on,aio=native" \
      -blockdev "driver=raw,file=data-file,node-name=data" \
      -device "virtio-blk-pci,drive=data,num-queues=$dom0_vcpus,serial=pvsimdata,addr=0x5" \
      -drive "file=$run_dir/io.img,format=raw,if=none,id=io,cache=unsafe" \
      -device "virtio-blk-pci,drive=io,serial=pvsimio,addr=0x6"
  } >"$cmdf"
  local tmo=${timeout:-$((domu_timeout + 600))}
  if [[ $variant == xen-blk ]]; then
    say "$variant: booting Xen $xenver (outer QEMU -smp $machine_cpus, ${machine_mem} MiB; dom0 $dom0_vcpus vCPUs; domU $domu_vcpus vCPUs; blkback max_queues=$bq, blkfront max_queues=$fq, ring order $ring_order, persistent $persistent; $(fio_total) fio runs)"
  else
    say "$variant: booting Xen $xenver (outer QEMU -smp $machine_cpus, ${machine_mem} MiB; dom0 $dom0_vcpus vCPUs; domU $domu_vcpus vCPUs; netfront/netback max_queues=$queues, split event channels $split; streams $streams)"
  fi
  run_machine "$variant" "$tmo" "$run_dir/serial.log" "$cmdf"
  read_io_disk
  [[ -d $run_dir/results/domU ]] ||
    die "step '$variant: guest run' failed: dom0 wrote no results (${guest_failed:-see the console}); console: $run_dir/serial.log"
  if [[ -r $run_dir/results/failed ]]; then
    echo "$prog: step '$variant: guest run' failed: $(tr '\n' ' ' <"$run_dir/results/failed"); console: $run_dir/serial.log; dom0 logs: $run_dir/results/logs" >&2
    exit 1
  fi
  ((guest_done)) || say "$variant: warning: dom0 did not print PVSIM-DONE (see $run_dir/serial.log)"
  [[ -r $run_dir/results/domU/status ]] ||
    die "step '$variant: guest run' failed: the domU's results are missing ($(tail -n 1 "$run_dir/results/logs/extract.log" 2>/dev/null)); domU console: $run_dir/results/logs/domU-console.log"
  mkdir -p "$run_dir/results/qemu" "$run_dir/results/logs"
  cp "$cmdf" "$run_dir/results/qemu/cmdline.txt"
  cp "$run_dir/serial.log" "$run_dir/results/logs/serial.log"
  cp "$run_dir/blkback-parm.txt" "$run_dir/blkfront-parm.txt" "$run_dir/results/logs/" 2>/dev/null || true
  write_bundle "$variant"
  rm -f "$run_dir/io.img"
}

# ---------------------------------------------------------------- main
# one build at a time per cache (runs themselves may overlap)
exec 9>"$cache/.build.lock"
if ! flock -n 9; then
  say "build: waiting for another lab.sh building in $cache"
  flock 9
fi
do_build
flock -u 9
case "$sub" in
build) ;;
virtio) run_virtio ;;
xen-blk | xen-net) run_xen ;;
esac
say "done"
