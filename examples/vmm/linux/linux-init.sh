#!/bin/busybox sh
# SPDX-License-Identifier: MIT
#
# /init of the Linux guest that vmm-linux boots (docs/vmm.md).  It loads
# the virtio modules of the guest's own kernel, then executes the VMM's
# commands, which arrive as lines on the console (the VMM's UART), and
# answers each on the console:
#
#   @@MSCMD md5                   -> @@MSREQ md5 <md5sum of /dev/vda>
#   @@MSCMD blkwrite SECTOR TEXT  -> writes TEXT at SECTOR of /dev/vda; @@MSREQ done
#   @@MSCMD dirty NONCE N         -> writes N pages, each starting with
#                                    "MSDIRTY NONCE k" (k = 0000..); @@MSREQ done
#   @@MSCMD read GPA              -> @@MSREQ value <32-bit word at GPA> (devmem)
#   @@MSCMD write GPA VALUE       -> devmem write; @@MSREQ done
#   @@MSCMD work                  -> starts the pre-copy's workload in the
#                                    background; @@MSREQ working
#   @@MSCMD stop                  -> stops it; @@MSREQ done
#   @@MSCMD quit                  -> @@MSREQ bye, then reboot -f
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# The VMM's answers must not come back as our input.
stty -echo 2>/dev/null
for m in virtio_ring virtio virtio_mmio virtio_blk; do
	[ -f /lib/modules/$m.ko ] && { insmod /lib/modules/$m.ko || echo "init: insmod $m failed"; }
done

# A page of the dirty pass: a 29-byte header, padding, a newline.
pad=$(head -c 4066 /dev/zero | tr '\0' .)

reply() { echo "@@MSREQ $*"; }

# The pre-copy's workload, two loops that run until "stop": one reads the
# whole disk again and again, its page cache dropped first, so that each
# pass is virtio-blk writing 8 MiB into guest RAM (writes KVM never
# sees); the other rewrites a 4 MiB file of random bytes in the rootfs
# (memory the vCPU writes, which KVM logs).
start_work() {
	(while :; do
		echo 3 >/proc/sys/vm/drop_caches
		cat /dev/vda >/dev/null
	done) &
	reader=$!
	(while :; do
		dd if=/dev/urandom of=/mswork bs=64k count=64 2>/dev/null
	done) &
	writer=$!
}

# The kernel's banner, which a quiet boot does not print: the log shows
# which Linux ran.
echo "init: $(cat /proc/version)"
reply ready
while read -r tag op a b; do
	[ "$tag" = "@@MSCMD" ] || continue
	case $op in
	md5)
		i=0
		while ! [ -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		reply "md5 $(md5sum /dev/vda | cut -d' ' -f1)"
		;;
	blkwrite)
		printf '%s' "$b" | dd of=/dev/vda bs=512 seek="$a" conv=notrunc,fsync 2>/dev/null
		reply done
		;;
	dirty)
		rm -f /dirty
		k=0
		while [ $k -lt "$b" ]; do
			printf 'MSDIRTY %s %04d%s\n' "$a" $k "$pad" >>/dirty
			k=$((k + 1))
		done
		reply done
		;;
	read)
		reply "value $(devmem "$a" 32)"
		;;
	write)
		devmem "$a" 32 "$b"
		reply done
		;;
	work)
		start_work
		reply working
		;;
	stop)
		kill "$reader" "$writer"
		wait "$reader" "$writer" 2>/dev/null
		rm -f /mswork
		reply done
		;;
	quit)
		reply bye
		sync
		reboot -f
		;;
	*)
		reply "unknown $op"
		;;
	esac
done
echo "init: console closed"
reboot -f
