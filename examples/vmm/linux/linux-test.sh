#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Boots Debian's kernel with vmm-linux on real KVM (docs/vmm.md): builds
# the guest's initramfs (busybox-static, linux-init.sh as /init, the
# kernel package's virtio modules) and a disk image of random bytes, then
# runs vmm-linux through scripts/kvm-harness.sh, which puts the kernel,
# the initramfs and the disk where vmm-linux finds them (the host's
# /dev/kvm, or inside the QEMU guest whose kvm_amd runs it nested).
#
# Usage: linux-test.sh [--mode auto|host|qemu] [--cache DIR] [--timeout S]
#                      [--] VMM_LINUX [vmm-linux options...]
# Exit status: vmm-linux's (0 pass, 1 fail, 77 no KVM anywhere).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
harness=$root/scripts/kvm-harness.sh
mode=auto
cache=${MEMSLOTS_KVM_CACHE:-$root/build/kvm-cache}
timeout_s=900
disk_mib=8

while [ "$#" -gt 0 ]; do
	case $1 in
	--mode) mode=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "linux-test: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ "$#" -ge 1 ] || { echo "usage: $0 [--mode M] [--cache DIR] [--timeout S] -- VMM_LINUX [ARGS...]" >&2; exit 2; }
vmm=$1
shift

# A host that cannot boot Linux under --mode host is a skip before the
# kernel is fetched (the run below says where the guest goes otherwise).
rc=0
why=$("$harness" --mode "$mode" --needs linux --where 2>&1 >/dev/null) || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "$why" >&2
	exit "$rc"
fi
kdir=$("$harness" --cache "$cache" --kernel-dir) || exit $?

# The guest's initramfs, rebuilt when its inputs change; one run at a time
# builds it (ctest -j runs both Linux tests at once), and its content is
# the same for every run.
initrd=$cache/linux-guest.cpio.gz
stamp=$(sha256sum "$here/linux-init.sh" /bin/busybox "$kdir"/guest-modules/*.ko | sha256sum)
exec 8>"$cache/linux-guest.lock"
flock 8
if ! [ -f "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
	tmp=$(mktemp -d "$cache/guest.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,lib/modules}
	cp /bin/busybox "$tmp/bin/busybox"
	cp "$kdir"/guest-modules/*.ko "$tmp/lib/modules/"
	cp "$here/linux-init.sh" "$tmp/init"
	chmod 755 "$tmp/init"
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	echo "$stamp" >"$initrd.stamp"
	rm -rf "$tmp"
fi
flock -u 8

# A disk of random bytes; the guest's md5sum of /dev/vda must match ours.
disk=$(mktemp "$cache/disk.XXXXXX.img")
trap 'rm -f "$disk"' EXIT
head -c $((disk_mib << 20)) /dev/urandom >"$disk"
md5=$(md5sum "$disk" | cut -d' ' -f1)
echo "linux-test: kernel $(basename "$kdir"), guest initramfs $(($(stat -c %s "$initrd") >> 10)) KiB," \
	"disk ${disk_mib} MiB (md5 $md5)"

rc=0
"$harness" --mode "$mode" --needs linux --cache "$cache" --timeout "$timeout_s" --memory 2048 \
	--file "$kdir/vmlinuz:linux/vmlinuz" --file "$initrd:linux/initrd.gz" \
	--file "$disk:linux/disk.img" -- \
	"$vmm" --kernel linux/vmlinuz --initrd linux/initrd.gz --disk linux/disk.img \
	--disk-md5 "$md5" "$@" || rc=$?
exit "$rc"
