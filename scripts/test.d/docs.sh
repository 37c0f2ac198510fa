#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test stage "docs": the doxygen API reference (the `docs` target's
# Doxyfile, built from docs/Doxyfile.in) must build without a single
# warning: the same configuration with WARN_AS_ERROR=YES.  Output in
# build/docs/docs/html.
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/deps.sh doxygen
cmake -S . -B build/docs -DMEMSLOTS_BUILD_TESTS=OFF -DMEMSLOTS_BUILD_EXAMPLES=OFF \
	-DMEMSLOTS_BUILD_BENCH=OFF >/dev/null
if [ ! -e build/docs/Doxyfile ]; then
	echo "docs: CMake did not find doxygen" >&2
	exit 1
fi
# A later setting overrides an earlier one; QUIET leaves only the warnings.
{ cat build/docs/Doxyfile; echo "WARN_AS_ERROR = YES"; } | doxygen -
echo "docs: API reference built without warnings in build/docs/docs/html"
