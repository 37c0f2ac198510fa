#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Test stage "fuzz": builds the libFuzzer targets of tests/fuzz (clang,
# ASan+UBSan, in build/fuzz), replays every committed regression input
# (tests/fuzz/regressions/<target>/), then fuzzes each target for
# FUZZ_SECONDS (default 30: seven targets, two at a time, in the 20
# minutes scripts/test.sh may take; scripts/fuzz-soak.sh runs for hours)
# starting from its committed seed corpus
# (tests/fuzz/corpus/<target>/), as many targets at a time as there are
# cores.  New inputs go to a temporary directory,
# so the repository is never modified; a crash fails the stage and its
# input is kept in build/fuzz/artifacts/<target>/.
#
#   scripts/test.d/fuzz.sh          build, replay, fuzz
#   scripts/test.d/fuzz.sh build    only build (used by scripts/fuzz-soak.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
targets=(fuzz_memslots fuzz_rbtree fuzz_itree fuzz_btree fuzz_attrmap fuzz_gmem fuzz_idhash)
seconds=${FUZZ_SECONDS:-30}
bin=$root/build/fuzz/tests/fuzz

# clang alone may come without the libFuzzer runtime.
scripts/deps.sh clang libclang-rt-14-dev
cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMEMSLOTS_BUILD_FUZZ=ON -DMEMSLOTS_BUILD_TESTS=OFF -DMEMSLOTS_BUILD_EXAMPLES=OFF \
	-DMEMSLOTS_BUILD_BENCH=OFF -DMEMSLOTS_WERROR=ON >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]}"
[ "${1:-}" = build ] && exit 0

# Leaks are checked by the targets themselves (live allocation counts);
# keep libFuzzer's own leak check too, and stop at the first error.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One target: its regression inputs, then $seconds of fuzzing; its output
# in $tmp/$t.out, printed once it is done so parallel runs do not mix.
fuzz_one() {
	local t=$1 regs dict
	regs=(tests/fuzz/regressions/${t#fuzz_}/*)
	if [ -e "${regs[0]}" ]; then
		echo "--- $t: replaying ${#regs[@]} regression inputs"
		"$bin/$t" "${regs[@]}" >"$tmp/$t.replay.log" 2>&1 || {
			cat "$tmp/$t.replay.log"
			echo "--- $t: a regression input fails again"
			return 1
		}
	fi
	mkdir -p "$tmp/$t" "build/fuzz/artifacts/$t"
	dict=()
	[ -e "tests/fuzz/${t#fuzz_}.dict" ] && dict=("-dict=tests/fuzz/${t#fuzz_}.dict")
	echo "--- $t: fuzzing for $seconds s"
	# The first directory receives new inputs; the committed corpus is read only.
	if "$bin/$t" "$tmp/$t" "tests/fuzz/corpus/${t#fuzz_}" "${dict[@]}" \
		-max_total_time="$seconds" -max_len=1024 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$t/" \
		>"$tmp/$t.log" 2>&1; then
		grep -E '^#[0-9]+[[:space:]]+DONE' "$tmp/$t.log" | tail -1 || true
		grep -E 'stat::number_of_executed_units' "$tmp/$t.log" || true
	else
		tail -60 "$tmp/$t.log"
		echo "--- $t: FAILED; input kept in build/fuzz/artifacts/$t/"
		return 1
	fi
}

# The targets are independent and single-threaded: one per core at a time.
# Each leaves its exit status in $tmp/$t.rc.
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$(nproc)" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	{
		rc=0
		fuzz_one "$t" >"$tmp/$t.out" 2>&1 || rc=$?
		echo "$rc" >"$tmp/$t.rc"
	} &
	running=$((running + 1))
done
wait
status=0
for t in "${targets[@]}"; do
	cat "$tmp/$t.out"
	[ "$(cat "$tmp/$t.rc" 2>/dev/null)" = 0 ] || status=1
done
exit $status
