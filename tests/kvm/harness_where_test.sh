#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The harness's choice of where a program runs (scripts/kvm-harness.sh
# --where), for every kind of host, without needing one: the device, the
# CPU flags and the loaded modules are files of this test's
# (MEMSLOTS_KVM_DEVICE, MEMSLOTS_KVM_CPUINFO, MEMSLOTS_KVM_SYS_MODULE).
# /dev/null stands in for a usable /dev/kvm (a character device we may
# open for reading and writing).
#
# Usage: harness_where_test.sh HARNESS
set -euo pipefail

harness=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

mkdir -p "$tmp/mod-std/kvm_amd" "$tmp/mod-pvm/kvm" "$tmp/mod-pvm/kvm_pvm"
echo 'flags		: fpu vme de pse tsc msr pae svm lahf_lm' >"$tmp/cpu-svm"
echo 'flags		: fpu vme de pse tsc msr pae vmx ept' >"$tmp/cpu-vmx"
echo 'flags		: fpu vme de pse tsc msr pae hypervisor lahf_lm' >"$tmp/cpu-none"
: >"$tmp/not-a-device"

# expect <host kind> <device> <cpuinfo> <modules> <mode> <needs> <want>:
# want is "host", "qemu" or "skip" (exit 77).
expect() {
	local kind=$1 dev=$2 cpu=$3 mods=$4 mode=$5 needs=$6 want=$7 got rc=0
	got=$(MEMSLOTS_KVM_DEVICE=$dev MEMSLOTS_KVM_CPUINFO=$tmp/$cpu \
		MEMSLOTS_KVM_SYS_MODULE=$tmp/$mods "$harness" --mode "$mode" --needs "$needs" \
		--where 2>"$tmp/err") || rc=$?
	if [ "$rc" -eq 77 ]; then
		got=skip
	elif [ "$rc" -ne 0 ]; then
		got="exit $rc"
	fi
	if [ "$got" = "$want" ]; then
		printf 'ok   %-28s --mode %-4s --needs %-6s -> %s\n' "$kind" "$mode" "$needs" "$got"
	else
		printf 'FAIL %-28s --mode %-4s --needs %-6s -> %s, want %s\n' "$kind" "$mode" "$needs" \
			"$got" "$want"
		sed 's/^/     /' "$tmp/err"
		failures=$((failures + 1))
	fi
}

for needs in ioctls linux; do
	# No /dev/kvm (or one that is not a device): the QEMU guest, or a skip.
	expect "no /dev/kvm" "$tmp/absent" cpu-svm mod-std auto "$needs" qemu
	expect "no /dev/kvm" "$tmp/absent" cpu-svm mod-std host "$needs" skip
	expect "/dev/kvm not a device" "$tmp/not-a-device" cpu-vmx mod-std auto "$needs" qemu
	# Hardware KVM, bare metal or nested (a nested guest sees vmx/svm too).
	expect "standard KVM (svm)" /dev/null cpu-svm mod-std auto "$needs" host
	expect "standard KVM (vmx, nested)" /dev/null cpu-vmx mod-std host "$needs" host
	# Any mode may ask for the QEMU guest.
	expect "standard KVM (svm)" /dev/null cpu-svm mod-std qemu "$needs" qemu
done

# Software KVM: ioctls on the host, Linux guests in QEMU, never a Linux
# guest on the host.
expect "PVM (kvm_pvm)" /dev/null cpu-none mod-pvm auto ioctls host
expect "PVM (kvm_pvm)" /dev/null cpu-none mod-pvm auto linux qemu
expect "PVM (kvm_pvm)" /dev/null cpu-none mod-pvm host linux skip
expect "PVM on a CPU with vmx" /dev/null cpu-vmx mod-pvm auto linux qemu
expect "no vmx/svm, no PVM module" /dev/null cpu-none mod-std auto ioctls host
expect "no vmx/svm, no PVM module" /dev/null cpu-none mod-std auto linux qemu
expect "no vmx/svm, no PVM module" /dev/null cpu-none mod-std host linux skip

# The reason is one line, and says what the host is.
MEMSLOTS_KVM_DEVICE=/dev/null MEMSLOTS_KVM_CPUINFO=$tmp/cpu-none \
	MEMSLOTS_KVM_SYS_MODULE=$tmp/mod-pvm "$harness" --needs linux --where 2>"$tmp/err" >/dev/null
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'PVM (module kvm_pvm)' "$tmp/err"; then
	echo "ok   the reason for the QEMU guest: $(cat "$tmp/err")"
else
	echo "FAIL the reason for the QEMU guest is not one line naming PVM:"
	cat "$tmp/err"
	failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
	echo "harness_where_test: $failures failed"
	exit 1
fi
echo "harness_where_test: PASS"
