#!/usr/bin/env bash
# Runs every test of libmemslots: the dev build's suite, the same under
# ASan+UBSan and under TSan, valgrind memcheck over the unit suite, and the
# extra stages below.  Installs missing Debian packages first.  Exits
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/deps.sh
jobs=$(nproc)
failed=()
passed=0

stage() {
	local name=$1
	shift
	echo "==== $name ===="
	local t0=$SECONDS
	if "$@"; then
		echo "==== $name: ok ($((SECONDS - t0)) s) ===="
		passed=$((passed + 1))
	else
		echo "==== $name: FAILED ($((SECONDS - t0)) s) ===="
		failed+=("$name")
	fi
}

workflow() {
	cmake --preset "$1" >/dev/null &&
		cmake --build --preset "$1" -j "$jobs" &&
		ctest --preset "$1" -j "$jobs"
}

# The dev stage: the Debug build's suite; then the whole tree (library,
# tests, benchmarks, examples) at -O2 -g (what the Debian packages ship)
# with warnings as errors, running the unit suite there too.  gcc's -O2
# flow analysis warns about code the Debug build never questions
# (-Wmaybe-uninitialized), and an optimizer that takes the code's word on
# aliasing or inlining breaks what -O0 runs fine (gcc 12's IPA mod/ref did,
# in the B+tree's insert).  The other stages' builds (asan, tsan, abi,
# fuzz, kvm: the kvm stage's is -O3) use -Werror as well.
dev() {
	workflow dev &&
		cmake --preset release -B build/o2 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DMEMSLOTS_WERROR=ON >/dev/null &&
		cmake --build build/o2 -j "$jobs" &&
		ctest --test-dir build/o2 -L unit -j "$jobs" --output-on-failure
}

memcheck() {
	# Reuses the dev build; -T memcheck runs every unit test under valgrind
	# with --error-exitcode, definite leaks counted as errors.  The suite's
	# second run on the KVM index (label rbtree_index) is left to the asan
	# stage, whose LeakSanitizer counts leaks too: valgrind over both
	# indexes took 8 of the 20 minutes this script may take on 2 cores.
	ctest --test-dir build/dev -T memcheck -L unit \
		-LE 'kvm|install|package|memcheck-selftest|bench|rbtree_index' \
		-j "$jobs" --output-on-failure
}

# ThreadSanitizer: the suite on the default index, and the concurrency
# tests on the KVM index too (readers against a writer on each index's
# structures); the rest of the KVM-index runs are single-threaded, and the
# dev and asan stages run them.
tsan() {
	cmake --preset tsan >/dev/null &&
		cmake --build --preset tsan -j "$jobs" &&
		ctest --preset tsan -LE 'kvm|install|memcheck-selftest|rbtree_index' -j "$jobs" &&
		ctest --preset tsan -L rbtree_index -R '^test_concurrency' -j "$jobs"
}

stage dev dev
stage asan workflow asan
stage memcheck memcheck
stage tsan tsan
for extra in "$root"/scripts/test.d/*.sh; do
	[ -e "$extra" ] || continue
	stage "$(basename "$extra" .sh)" bash "$extra"
done

if [ "${#failed[@]}" -ne 0 ]; then
	echo "FAILED stages: ${failed[*]}"
	echo "stages: $passed passed, ${#failed[@]} failed"
	exit 1
fi
echo "all test stages passed"
echo "stages: $passed passed, 0 failed"
