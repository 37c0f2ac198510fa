#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Builds the Debian packages of libmemslots with CPack (cmake/Packaging.cmake):
#   libmemslots0_<version>-1_<arch>.deb     the shared library
#   libmemslots-dev_<version>-1_<arch>.deb  headers, static library, CMake
#                                           package, pkg-config file
# The version is the project's (CMakeLists.txt, project(VERSION)).  The build
# is configured for /usr, so the libraries go to /usr/lib/<multiarch>.
#
#   scripts/package.sh [--build-dir DIR] [--out-dir DIR]
#
# Defaults: build/package and build/package/debs.  Prints the two paths.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/package
out=
while [ "$#" -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift ;;
	--out-dir) out=$2; shift ;;
	*) echo "usage: $0 [--build-dir DIR] [--out-dir DIR]" >&2; exit 2 ;;
	esac
	shift
done
out=${out:-$build/debs}

# dpkg-dev: dpkg-shlibdeps, which computes the runtime package's Depends.
scripts/deps.sh cmake gcc make pkgconf liburcu-dev dpkg-dev
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
	-DMEMSLOTS_BUILD_TESTS=OFF -DMEMSLOTS_BUILD_EXAMPLES=OFF -DMEMSLOTS_BUILD_BENCH=OFF \
	-DMEMSLOTS_BUILD_FUZZ=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.deb
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
debs=("$out"/*.deb)
if [ "${#debs[@]}" -ne 2 ]; then
	echo "package: expected 2 .deb files in $out, got: ${debs[*]}" >&2
	exit 1
fi
printf '%s\n' "${debs[@]}"
