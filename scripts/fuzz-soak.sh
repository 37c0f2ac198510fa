#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Long fuzzing runs: each target for SECONDS (default 3600) with
# -max_total_time, JOBS targets at a time (default: the number of CPUs).
# Each target keeps a growing working corpus in build/fuzz/soak/<target>/
# (seeded from tests/fuzz/corpus/<target>/) and a log in
# build/fuzz/soak/<target>.log; a crash, leak or timeout input is copied
# into tests/fuzz/regressions/<target>/, which CI replays (commit it once
# the bug is fixed).  Prints executions (of every run in the log),
# coverage and findings per target.  JOBS and FUZZ_MAX_LEN (default 1024)
# in the environment tune it.
#
#   scripts/fuzz-soak.sh [SECONDS [TARGET...]]     e.g. scripts/fuzz-soak.sh 600 memslots
#   scripts/fuzz-soak.sh coverage [TARGET...]
#       source coverage of src/ reached by each target's soak corpus (or the
#       committed corpus when there is none), built with clang's
#       source-based coverage in build/fuzz/cov
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

coverage() {
	local cov=$root/build/fuzz/cov t corpus
	scripts/deps.sh clang libclang-rt-14-dev llvm-14 # llvm-cov-14, llvm-profdata-14
	[ $# -gt 0 ] || set -- memslots rbtree itree btree attrmap gmem
	# for build/fuzz/include/memslots/version.h
	[ -e build/fuzz/include/memslots/version.h ] || scripts/test.d/fuzz.sh build >/dev/null
	mkdir -p "$cov"
	for t in "$@"; do
		clang -O1 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping -DFZ_STATS \
			-D_GNU_SOURCE -DMEMSLOTS_BUILDING -Iinclude -Ibuild/fuzz/include -Isrc \
			src/*.c "tests/fuzz/fuzz_$t.c" -lurcu-memb -lpthread -o "$cov/fuzz_$t"
		corpus=$root/build/fuzz/soak/$t
		[ -d "$corpus" ] || corpus=$root/tests/fuzz/corpus/$t
		echo "== fuzz_$t ($(find "$corpus" -type f | wc -l) inputs from $corpus)"
		LLVM_PROFILE_FILE="$cov/$t.profraw" "$cov/fuzz_$t" -runs=0 "$corpus" \
			>"$cov/$t.log" 2>&1
		grep -E '^(rejected|model):' "$cov/$t.log" || true
		llvm-profdata-14 merge -sparse "$cov/$t.profraw" -o "$cov/$t.profdata"
		llvm-cov-14 report "$cov/fuzz_$t" -instr-profile="$cov/$t.profdata" src/*.c |
			awk '/%/ { printf "%-16s regions %7s  functions %7s  lines %7s  branches %7s\n",
				$1, $4, $7, $10, $13 }'
	done
}

if [ "${1:-}" = coverage ]; then
	shift
	coverage "$@"
	exit 0
fi
seconds=${1:-3600}
shift || true
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=(memslots rbtree itree btree attrmap gmem)
fi
jobs=${JOBS:-$(nproc)}
# Longer inputs reach deeper states, shorter ones run faster.
max_len=${FUZZ_MAX_LEN:-1024}

scripts/test.d/fuzz.sh build
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
soak=$root/build/fuzz/soak
mkdir -p "$soak"

run_one() {
	local t=$1 bin=$root/build/fuzz/tests/fuzz/fuzz_$1
	local dict=() left=$seconds t0 rc
	mkdir -p "$soak/$t" "$soak/$t.artifacts"
	# Appended to: the summary adds up the executions of every run in the log.
	echo "=== $(date -u +%FT%TZ) soak of $seconds s, max_len $max_len" >>"$soak/$t.log"
	[ -e "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
	# A finding stops libFuzzer: keep its input and start again for the
	# time left, so one bug does not end the soak.
	while [ "$left" -gt 0 ]; do
		t0=$SECONDS
		rc=0
		"$bin" "$soak/$t" "tests/fuzz/corpus/$t" "${dict[@]}" -max_total_time="$left" \
			-max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$soak/$t.artifacts/" >>"$soak/$t.log" 2>&1 || rc=$?
		left=$((left - (SECONDS - t0) - 1))
		[ "$rc" -eq 0 ] && break
	done
	local found=("$soak/$t.artifacts"/*)
	if [ -e "${found[0]}" ]; then
		mkdir -p "tests/fuzz/regressions/$t"
		cp "${found[@]}" "tests/fuzz/regressions/$t/"
	fi
}

pids=()
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	run_one "$t" &
	pids+=($!)
done
wait || true

status=0
for t in "${targets[@]}"; do
	execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$soak/$t.log" |
		grep -Eo '[0-9]+$' | awk '{ s += $1 } END { print s + 0 }')
	cov=$(grep -Eo 'cov: [0-9]+' "$soak/$t.log" | tail -1 | grep -Eo '[0-9]+' || echo '?')
	findings=$(find "$soak/$t.artifacts" -type f | wc -l)
	printf '%-10s %6s s  %12s execs  cov %5s  findings %s\n' "$t" "$seconds" "$execs" \
		"$cov" "$findings"
	[ "$findings" -eq 0 ] || status=1
done
exit $status
