#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Records the ABI of libmemslots.so as the baseline that the "abi" test
# stage (scripts/test.d/abi.sh) compares every change against:
# abi/<SONAME>.abi, libabigail's XML of the public types and functions.
#
#   scripts/abi-baseline.sh [--force] [--rev REV]
#
# Run it deliberately, in the same change as a SONAME bump (cmake/Abi.cmake,
# MEMSLOTS_SOVERSION): an incompatible change needs a new SONAME, and the new
# SONAME needs its own baseline.  It refuses to overwrite the baseline of an
# existing SONAME (that would hide a break from the check) unless given
# --force, which is only right when the recorded file itself was wrong.
#
# --rev REV records the library of a git revision instead of the work tree
# (built from `git archive REV` in a temporary directory).  A revision
# without symbol versions (0.1.0 shipped none) is linked with all its
# functions in the oldest node of today's src/libmemslots.map: libabigail
# only compares versioned symbols with versioned symbols, and that node is
# exactly what 0.1.0 exported.  abi/libmemslots.so.0.abi was recorded with
# `scripts/abi-baseline.sh --force --rev e8f770e` (0.1.0 as shipped).
# docs/abi.md says when the ABI may change and how.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/abi-lib.sh

force=0
rev=
while [ "$#" -gt 0 ]; do
	case $1 in
	--force) force=1 ;;
	--rev) rev=$2; shift ;;
	*) echo "usage: $0 [--force] [--rev REV]" >&2; exit 2 ;;
	esac
	shift
done
scripts/deps.sh abigail-tools

src=$root
extra=()
if [ -n "$rev" ]; then
	src=$(mktemp -d)
	trap 'rm -rf "$src"' EXIT
	git archive "$rev" | tar -x -C "$src"
	if [ ! -e "$src/src/libmemslots.map" ]; then
		node=$(sed -n 's/^\(MEMSLOTS_[0-9.]*\) {.*/\1/p' src/libmemslots.map | head -1)
		printf '%s {\n\tglobal:\n\t\tmemslots_*;\n\tlocal:\n\t\t*;\n};\n' "$node" \
			>"$src/oldest.map"
		# shellcheck disable=SC2054 # the commas belong to -Wl,
		extra=(-DCMAKE_SHARED_LINKER_FLAGS=-Wl,--version-script="$src/oldest.map")
		echo "abi-baseline: $rev has no symbol versions; linking it with $node"
	fi
fi

cd "$src"
abi_build build/abi "${extra[@]}"
lib=$(abi_library build/abi)
soname=$(abi_soname "$lib")
out=$root/$abi_dir/$soname.abi
if [ -e "$out" ] && [ "$force" -eq 0 ]; then
	echo "abi-baseline: $out exists; an ABI break needs a new SONAME (docs/abi.md)," \
		"or pass --force to re-record the same SONAME" >&2
	exit 1
fi
mkdir -p "$root/$abi_dir"
abi_dump build/abi "$lib" "$out"
echo "abi-baseline: wrote $out from $lib${rev:+ (revision $rev)}"
