#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs a program that needs /dev/kvm on real KVM: on the host's /dev/kvm
# when there is a usable one, else inside a QEMU guest whose kernel has
# KVM (QEMU's TCG emulates AMD SVM, so a stock Debian kernel booted under
# it loads kvm_amd and exposes /dev/kvm even on a machine without hardware
# virtualization or with KVM access denied).
#
# Usage: scripts/kvm-harness.sh [--mode auto|host|qemu] [--needs ioctls|linux]
#                               [--cache DIR] [--guest-kernel DIR] [--timeout SECS]
#                               [--memory MB] [--file SRC:DEST]...
#                               [--] PROGRAM [ARGS...]
#        scripts/kvm-harness.sh [--cache DIR] --kernel-dir
#        scripts/kvm-harness.sh [--mode M] [--needs N] --where
#
#   --mode     auto (default, or $MEMSLOTS_KVM_MODE): host when /dev/kvm is
#              usable, can run what --needs says and the program does not
#              answer 77 there, else qemu.  host: the host or a skip (77)
#              saying why, never the QEMU guest.
#   --needs    what PROGRAM asks of KVM: ioctls (default: it makes VMs and
#              slots, and at most runs a few instructions of its own) or
#              linux (it boots an unmodified Linux kernel).  A software
#              KVM (PVM, module kvm_pvm; any /dev/kvm on a CPU whose flags
#              have neither vmx nor svm) answers every ioctl but runs a
#              guest's kernel mode thousands of times slower than hardware
#              and some of it not at all: such a host runs "ioctls"
#              programs, and "linux" ones go to the QEMU guest.
#   --cache    where the guest kernel and the initramfs are kept between
#              runs (default $MEMSLOTS_KVM_CACHE, else build/kvm-cache).
#   --guest-kernel  boot this kernel instead of Debian's default one
#              (default $MEMSLOTS_KVM_GUEST_KERNEL): a directory with
#              vmlinuz and modules/{irqbypass,kvm,ccp,kvm-amd}.ko, the
#              layout --kernel-dir prints; for running a program on a
#              newer kernel than the machine's release ships (docs/vmm.md
#              shows how to make one from a Debian kernel package).
#   --timeout  seconds for one whole guest boot + run (default 600).
#   --memory   the QEMU guest's RAM in MiB (default 1024).
#   --file     puts SRC where PROGRAM finds it as DEST, a relative path:
#              in the QEMU guest's initramfs (PROGRAM runs in /), or, on
#              the host, in a directory PROGRAM runs in.  Repeatable.
#   --where    prints where a program with these --mode and --needs would
#              run, "host" or "qemu" (the reason on stderr), or skips (77)
#              when --mode host cannot be met; then exits.
#   --kernel-dir  fetches the guest kernel if needed and prints the
#              directory holding it (vmlinuz, modules/ for the QEMU guest,
#              guest-modules/ with the virtio drivers), then exits.
#
# The guest is Debian's own kernel (the package linux-image-amd64 depends
# on, fetched with apt-get download and unpacked, never installed) and an
# initramfs of busybox-static, the kvm modules and PROGRAM (with the
# shared libraries it needs, if it is not static).  Its /init prints the
# program's exit status on a line of its own, which becomes ours.
#
# Exit status: PROGRAM's; 77 when neither the host's KVM nor QEMU can be
# used (a ctest SKIP_RETURN_CODE); 1 when the guest could not report one
# (boot failure, timeout, no /dev/kvm inside the guest).
set -euo pipefail

me=kvm-harness
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${MEMSLOTS_KVM_MODE:-auto}
needs=ioctls
cache=${MEMSLOTS_KVM_CACHE:-$root/build/kvm-cache}
timeout_s=600
memory_mb=1024
files=()
kernel_dir_only=0
where_only=0
guest_kernel=${MEMSLOTS_KVM_GUEST_KERNEL:-}
result_tag=MEMSLOTS-KVM-HARNESS

say() { echo "$me: $*" >&2; }
die() {
	say "$*"
	exit 1
}
skip() {
	say "SKIP: $*"
	exit 77
}

while [ "$#" -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--needs) needs=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--memory) memory_mb=$2; shift 2 ;;
	--file) files+=("$2"); shift 2 ;;
	--guest-kernel) guest_kernel=$2; shift 2 ;;
	--kernel-dir) kernel_dir_only=1; mode=qemu; shift ;;
	--where) where_only=1; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ "$#" -ge 1 ] || [ "$kernel_dir_only" -eq 1 ] || [ "$where_only" -eq 1 ] ||
	die "usage: $0 [--mode auto|host|qemu] [--needs ioctls|linux] [--cache DIR] [--guest-kernel DIR] [--timeout S] [--memory MB] [--file SRC:DEST]... [--] PROGRAM [ARGS...]"
case $mode in auto | host | qemu) ;; *) die "bad mode '$mode'" ;; esac
case $needs in ioctls | linux) ;; *) die "bad --needs '$needs' (ioctls or linux)" ;; esac
if [ "$kernel_dir_only" -eq 0 ] && [ "$where_only" -eq 0 ]; then
	prog=$(readlink -f "$1")
	shift
	[ -x "$prog" ] || die "$prog is not an executable"
fi
for f in ${files[@]+"${files[@]}"}; do
	src=${f%%:*}
	dest=${f#*:}
	[ "$src" != "$f" ] && [ -n "$dest" ] || die "--file wants SRC:DEST, not '$f'"
	case $dest in /* | *..*) die "--file DEST must be a relative path without '..': $dest" ;; esac
	[ -f "$src" ] || die "--file: no file $src"
done

# Copies (or links) the --file files under directory $1.
place_files() {
	local f src dest
	for f in ${files[@]+"${files[@]}"}; do
		src=${f%%:*}
		dest=${f#*:}
		mkdir -p "$1/$(dirname "$dest")"
		"${@:2}" "$(readlink -f "$src")" "$1/$dest"
	done
}

# What the host is made of; the test of the host classification
# (tests/kvm/harness_where_test.sh) points these at files of its own.
kvm_dev=${MEMSLOTS_KVM_DEVICE:-/dev/kvm}
cpuinfo=${MEMSLOTS_KVM_CPUINFO:-/proc/cpuinfo}
sys_module=${MEMSLOTS_KVM_SYS_MODULE:-/sys/module}

host_kvm_usable() {
	[ -c "$kvm_dev" ] && [ -r "$kvm_dev" ] && [ -w "$kvm_dev" ]
}

# Prints why the host's KVM cannot boot an unmodified Linux guest, or
# nothing when it can: hardware virtualization (vmx or svm among the CPU
# flags; a nested guest of a standard KVM has them too) and no PVM module.
host_kvm_linux_unfit() {
	if [ -d "$sys_module/kvm_pvm" ]; then
		echo "the host's /dev/kvm is PVM (module kvm_pvm), software virtualization that boots only guests built for it"
	elif ! grep -qwE 'vmx|svm' "$cpuinfo" 2>/dev/null; then
		echo "the host's /dev/kvm is software KVM (the CPU flags have neither vmx nor svm)"
	fi
}

# ---- host ------------------------------------------------------------------
unfit=""
if [ "$mode" != qemu ] && [ "$needs" = linux ] && host_kvm_usable; then
	unfit=$(host_kvm_linux_unfit)
	if [ -n "$unfit" ]; then
		[ "$mode" = host ] && skip "$unfit: not running a Linux guest on it (--mode host)"
		say "$unfit: running the Linux guest in a QEMU guest instead"
	fi
fi
if [ "$where_only" -eq 1 ]; then
	if [ "$mode" != qemu ] && [ -z "$unfit" ] && host_kvm_usable; then
		echo host
	elif [ "$mode" = host ]; then
		skip "no usable /dev/kvm on this host"
	else
		echo qemu
	fi
	exit 0
fi
if [ "$mode" != qemu ] && [ -z "$unfit" ]; then
	if host_kvm_usable; then
		say "running on the host's /dev/kvm: $prog $*"
		rc=0
		if [ "${#files[@]}" -gt 0 ]; then
			# PROGRAM finds its files relative to where it runs.
			rundir=$(mktemp -d)
			place_files "$rundir" ln -s
			(cd "$rundir" && "$prog" "$@") || rc=$?
			rm -rf "$rundir"
		else
			"$prog" "$@" || rc=$?
		fi
		if [ "$rc" -ne 77 ] || [ "$mode" = host ]; then
			say "exit code $rc (host)"
			exit "$rc"
		fi
		say "the program found no usable KVM on the host; trying a QEMU guest"
	elif [ "$mode" = host ]; then
		skip "no usable /dev/kvm on this host"
	else
		say "no usable /dev/kvm on this host; using a QEMU guest"
	fi
fi

# ---- QEMU guest: prerequisites ------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }

is_static() {
	# A dynamically linked ELF has a PT_INTERP program header.
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'INTERP'
}

busybox=/bin/busybox
if ! have qemu-system-x86_64 || ! have cpio || ! [ -x $busybox ] || ! is_static $busybox; then
	say "installing qemu-system-x86, busybox-static, cpio"
	"$root/scripts/deps.sh" qemu-system-x86 busybox-static cpio >&2 ||
		skip "neither KVM nor the packages for a QEMU guest are available"
fi
for t in qemu-system-x86_64 cpio gzip readelf apt-get apt-cache dpkg flock; do
	have "$t" || skip "no $t for the QEMU guest"
done
is_static $busybox || skip "$busybox is not statically linked (install busybox-static)"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
exec 9>"$cache/lock"
# One harness at a time builds the cache (ctest -j runs tests in parallel).
flock 9

# ---- the guest kernel: Debian's, cached per package name ------------------
apt_updated=0
apt_update() {
	[ "$apt_updated" -eq 0 ] || return 1
	apt_updated=1
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		have sudo && sudo -n true 2>/dev/null || return 1
		sudo="sudo -n"
	fi
	say "apt-get update (the package lists are needed to download the kernel)"
	$sudo apt-get update -qq >&2
}

kernel_pkg() {
	# linux-image-amd64 is a metapackage; the image is what it depends on,
	# e.g. linux-image-6.1.0-56-amd64.
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

if [ -n "$guest_kernel" ]; then
	# A kernel the caller prepared: used as it is, never fetched.
	kdir=$(cd "$guest_kernel" && pwd)
	for f in vmlinuz modules/irqbypass.ko modules/kvm.ko modules/ccp.ko modules/kvm-amd.ko; do
		[ -f "$kdir/$f" ] || die "--guest-kernel $guest_kernel has no $f"
	done
else
	pkg=$(kernel_pkg || true)
	cached_kernel() {
		find "$cache/kernel" -mindepth 2 -maxdepth 2 -name ok -printf '%h\n' 2>/dev/null |
			sort | tail -n 1
	}

	if [ -z "$pkg" ] && [ -z "$(cached_kernel)" ]; then
		apt_update || true
		pkg=$(kernel_pkg || true)
	fi
	if [ -z "$pkg" ]; then
		# No package lists (and no way to update them): use a cached kernel.
		kdir=$(cached_kernel)
		[ -n "$kdir" ] || skip "cannot resolve the kernel package of linux-image-amd64"
	else
		kdir=$cache/kernel/$pkg
	fi

	# The virtio drivers the example VMM's Linux guest loads (its own
	# initramfs, built by examples/vmm/linux-test.sh).
	guest_modules="drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_mmio
		drivers/block/virtio_blk"

	# Copies module $2 (a path under kernel/, no suffix) of tree $1 to $3,
	# decompressed.
	copy_module() {
		local m=$1/$2
		if [ -f "$m.ko" ]; then
			cp "$m.ko" "$3"
		elif [ -f "$m.ko.xz" ]; then
			xz -dc "$m.ko.xz" >"$3"
		elif [ -f "$m.ko.zst" ]; then
			zstd -qdc "$m.ko.zst" >"$3"
		else
			return 1
		fi
	}

	if ! [ -f "$kdir/ok" ] || ! [ -f "$kdir/guest-modules/virtio_blk.ko" ]; then
		say "fetching $pkg (apt-get download, unpacked with dpkg -x)"
		tmp=$(mktemp -d "$cache/fetch.XXXXXX")
		chmod 755 "$tmp" # apt's _apt sandbox user must be able to write here
		if ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
			if ! apt_update || ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
				rm -rf "$tmp"
				skip "apt-get download $pkg failed"
			fi
		fi
		dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/x"
		rm -rf "$kdir"
		mkdir -p "$kdir/modules" "$kdir/guest-modules"
		cp "$tmp"/x/boot/vmlinuz-* "$kdir/vmlinuz"
		mdir=$(echo "$tmp"/x/lib/modules/*/kernel)
		# irqbypass and ccp are what kvm and kvm-amd need on Debian's config.
		for m in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp \
			arch/x86/kvm/kvm-amd; do
			copy_module "$mdir" "$m" "$kdir/modules/$(basename "$m").ko" ||
				{ rm -rf "$tmp"; die "$pkg has no module $m"; }
		done
		for m in $guest_modules; do
			copy_module "$mdir" "$m" "$kdir/guest-modules/$(basename "$m").ko" ||
				{ rm -rf "$tmp"; die "$pkg has no module $m"; }
		done
		rm -rf "$tmp"
		touch "$kdir/ok"
	fi
fi

if [ "$kernel_dir_only" -eq 1 ]; then
	echo "$kdir"
	exit 0
fi

# ---- the initramfs: rebuilt when the program, its args, its files or this
# script change
quote() {
	# Single-quotes each argument for busybox sh.
	local a out=""
	for a in "$@"; do
		out+=" '${a//\'/\'\\\'\'}'"
	done
	printf '%s' "$out"
}

init_script() {
	cat <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in irqbypass kvm ccp kvm-amd; do
	insmod /lib/modules/\$m.ko || echo "$me: insmod \$m failed"
done
[ -c /dev/kvm ] || echo "$me: the guest has no /dev/kvm"
echo "$result_tag: start"
/prog$(quote "$@")
echo "$result_tag: exit code \$?"
poweroff -f
EOF
}

name=$(basename "$prog")
initrd=$cache/initrd-$name.cpio.gz
stamp=$(
	{
		sha256sum "$prog" "$0" "$kdir/vmlinuz"
		for f in ${files[@]+"${files[@]}"}; do
			echo "$f $(sha256sum <"${f%%:*}")"
		done
		init_script "$@"
	} | sha256sum | cut -d' ' -f1
)
if ! [ -f "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
	say "building $initrd"
	tmp=$(mktemp -d "$cache/initrd.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,lib/modules}
	cp $busybox "$tmp/bin/busybox"
	cp "$kdir"/modules/*.ko "$tmp/lib/modules/"
	cp "$prog" "$tmp/prog"
	place_files "$tmp" cp
	if ! is_static "$prog"; then
		# Bring the loader and the libraries along, at the same paths.
		for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
			mkdir -p "$tmp$(dirname "$lib")"
			cp -L "$lib" "$tmp$lib"
		done
	fi
	init_script "$@" >"$tmp/init"
	chmod 755 "$tmp/init"
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	echo "$stamp" >"$initrd.stamp"
	rm -rf "$tmp"
fi
# This run boots its own copy: the cached initramfs is named after the
# program, and a run of the same program with other arguments or files
# (ctest -j) rebuilds it once this lock is released.
boot_initrd=$(mktemp "$cache/run-$name.XXXXXX.cpio.gz")
log=$(mktemp "$cache/run-$name.XXXXXX.log")
trap 'rm -f "$log" "$boot_initrd"' EXIT
cp "$initrd" "$boot_initrd"
flock -u 9

# ---- boot ------------------------------------------------------------------------
say "booting $(basename "$kdir") under QEMU TCG (-cpu EPYC: SVM emulated) to run $name"
t0=$(date +%s.%N)
qrc=0
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu EPYC -m "$memory_mb" -smp 1 \
	-nographic -no-reboot -kernel "$kdir/vmlinuz" -initrd "$boot_initrd" \
	-append 'console=ttyS0 panic=-1 quiet' </dev/null 2>&1 |
	sed -u -e 's/\r$//' -e "/TCG doesn't support requested feature/d" | tee "$log" ||
	qrc=$?
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

rc=$(sed -n "s/^$result_tag: exit code \([0-9]*\)\$/\1/p" "$log" | tail -n 1)
if [ -z "$rc" ]; then
	[ "$qrc" -eq 124 ] && die "the guest timed out after $timeout_s s"
	die "the guest reported no exit code (qemu exit $qrc, $secs s)"
fi
if grep -q "^$me: the guest has no /dev/kvm" "$log"; then
	# QEMU ran, so this is a broken harness, not a missing capability.
	die "kvm-amd did not give the guest a /dev/kvm (program exit $rc)"
fi
say "exit code $rc (QEMU guest, $secs s for boot + run + poweroff)"
exit "$rc"
