#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test stage "abi": the ABI of libmemslots.so against its baseline
# abi/<SONAME>.abi (recorded by scripts/abi-baseline.sh), with libabigail.
# Fails when
#  - abidiff reports a change other than an added function or a change
#    abi/compatible.abignore allows (members appended to the structs that
#    docs/abi.md says may grow): an incompatible change needs a new SONAME
#    (cmake/Abi.cmake) and its baseline, in the same change;
#  - the SONAME has no baseline (bumped without recording one);
#  - the oldest symbol version node no longer exports exactly the functions
#    of the baseline: a released node is frozen, new functions go to the
#    newest one (src/libmemslots.map).
# The library is built in build/abi.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/abi-lib.sh

scripts/deps.sh abigail-tools
abi_build build/abi
lib=$(abi_library build/abi)
soname=$(abi_soname "$lib")
baseline=$abi_dir/$soname.abi
if [ ! -e "$baseline" ]; then
	echo "abi: no baseline $baseline for the SONAME $soname; record it with" \
		"scripts/abi-baseline.sh in the change that bumps the SONAME" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abi_dump build/abi "$lib" "$tmp/current.abi"

status=0
echo "--- abidiff $baseline $lib"
abidiff --no-added-syms --suppressions "$abi_dir/compatible.abignore" \
	"$baseline" "$tmp/current.abi" || status=$?
if [ "$status" -ne 0 ]; then
	# abidiff's exit status is a bit mask: 1 error, 2 usage, 4 ABI change,
	# 8 incompatible change.
	echo "abi: FAILED: $soname changed incompatibly (abidiff status $status); see docs/abi.md" >&2
fi

# The oldest version node is the one the baseline shipped: same functions.
oldest=$(readelf -V "$lib" | sed -n 's/.*Index: 2 .*Name: \(.*\)$/\1/p')
if [ -z "$oldest" ]; then
	echo "abi: FAILED: $lib has no symbol versions (src/libmemslots.map not applied)" >&2
	status=1
else
	sed -n "s/.*<elf-symbol name='\([^']*\)'.*/\1/p" "$baseline" | sort -u >"$tmp/baseline.syms"
	readelf -W --dyn-syms "$lib" | awk '$7 != "UND" { print $8 }' |
		sed -n "s/^\(memslots_[A-Za-z0-9_]*\)@@\{0,1\}$oldest\$/\1/p" | sort -u >"$tmp/oldest.syms"
	if ! diff -u "$tmp/baseline.syms" "$tmp/oldest.syms"; then
		echo "abi: FAILED: the functions of $oldest differ from the baseline's (- baseline," \
			"+ $oldest): released nodes are frozen" >&2
		status=1
	fi
fi

echo "--- added since the baseline (compatible)"
abidiff --added-fns --suppressions "$abi_dir/compatible.abignore" "$baseline" \
	"$tmp/current.abi" | sed -n '/^[0-9]* Added functions\{0,1\}:/,$p' || true
[ "$status" -eq 0 ] && echo "abi: $soname is compatible with $baseline"
exit "$status"
