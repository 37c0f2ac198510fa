// SPDX-License-Identifier: MIT
//
// Registers the C benchmark bodies (bench_ops.c, one table per
// implementation) with Google Benchmark.  Names are
// "<layout>/<op>/<impl>/<N>"; every timed benchmark uses manual time (the
// bodies time only the work) and reports its operations per iteration in
// the counter "ops", so the time per operation is real_time / ops;
// "ns_per_op" shows it directly.
//
// Own flags, taken out before Google Benchmark sees argv:
//   --bench_n=10,30,...   slot counts (default 10,30,50,100,509,4096,32764)
//   --bench_layouts=...   layouts (default dense,holes,vmm,vmm32k; vmm32k
//                         only runs at N = 32764)
//   --bench_quick         minimal times, one iteration of the slow cases and
//                         no repetitions (the ctest smoke run)
//   --bench_long          the long sweep: 0.1 s per run, 5 repetitions, and
//                         the array's one-by-one setup at N = 32764 in every
//                         layout (45 s each), not in the dense one only
// By default every benchmark but the slow writers at large N runs 3 times
// (40 calls of a reader body, 10 of a writer's) and only the aggregates
// (report.py uses the median) are kept.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <cstdio>
#include <utility>
#include <vector>

#include <memslots/memslots.h>

#include "bench.h"

namespace {

bool quick = false;
bool long_run = false;
std::vector<unsigned> sizes = {10, 30, 50, 100, 509, 4096, 32764};
std::vector<unsigned> layouts = {BENCH_DENSE, BENCH_HOLES, BENCH_VMM, BENCH_VMM32K};

// The spaces and the populated objects of one layout, built on first use
// and shared by the benchmarks that leave them as they found them.  The
// benchmarks run layout by layout: the first one of a layout frees the
// previous layout's, so that the footprint stays that of one layout.
unsigned current_layout = BENCH_NR_LAYOUTS;
std::map<unsigned, bench_space *> spaces;
std::map<std::pair<const bench_impl *, unsigned>, bench_fixture *> fixtures;

void drop_all()
{
	for (auto &f : fixtures)
		f.first.first->fixture_free(f.second);
	fixtures.clear();
	for (auto &s : spaces) {
		bench_space_fini(s.second);
		delete s.second;
	}
	spaces.clear();
}

const bench_space *space(unsigned layout, unsigned n)
{
	if (layout != current_layout) {
		drop_all();
		current_layout = layout;
	}
	auto it = spaces.find(n);
	if (it != spaces.end())
		return it->second;
	bench_space *sp = new bench_space;
	if (bench_space_init(sp, layout, n)) {
		std::fprintf(stderr, "bench: no layout %s at N = %u\n", bench_layout_name(layout),
			     n);
		std::abort();
	}
	spaces[n] = sp;
	return sp;
}

bench_fixture *fixture(const bench_impl *impl, unsigned layout, unsigned n)
{
	const bench_space *sp = space(layout, n);
	auto key = std::make_pair(impl, n);
	auto it = fixtures.find(key);

	if (it != fixtures.end())
		return it->second;
	bench_fixture *fx = impl->fixture_new(sp);
	fixtures[key] = fx;
	return fx;
}

using Call = std::function<uint64_t(const bench_impl *, unsigned layout, unsigned n, uint64_t k)>;

// Runs @call (returning nanoseconds for its work) once per iteration and
// reports manual time; @ops is the number of operations one call does.
void run_timed(benchmark::State &state, const bench_impl *impl, unsigned layout, unsigned n,
	       uint64_t k, double ops, const Call &call)
{
	double total_ns = 0;

	bench_register_thread();
	for (auto _ : state) {
		uint64_t ns = call(impl, layout, n, k);

		total_ns += (double)ns;
		state.SetIterationTime((double)ns * 1e-9);
	}
	state.counters["ops"] = ops;
	state.counters["N"] = n;
	state.counters["ns_per_op"] = total_ns / ((double)state.iterations() * ops);
}

struct Op {
	const char *name;
	// operations per call of the body, for the reader loops (0: see ops)
	uint64_t k;
	// whether large N gets a fixed, small iteration count (slow writers)
	bool slow;
	Call call;
	std::function<double(unsigned n, uint64_t k)> ops;
	// the engine's alone (dirty logging): not registered for the array,
	// and in the dense layout only (the rows build their own objects)
	bool engine_only = false;
	// N plays no part: registered once, at the largest N
	bool one_n = false;
};

// Walks of every slot per call of the iteration row: about 4096 slots.
uint64_t walks(unsigned n)
{
	return n >= 4096 ? 1 : 4096 / n;
}

void register_op(const Op &op, unsigned layout, unsigned n, const bench_impl *impl)
{
	const double min_time = quick ? 0.001 : long_run ? 0.1 : 0.01;
	const bool array = std::strcmp(impl->name, "array") == 0;
	std::string name = std::string(bench_layout_name(layout)) + "/" + op.name + "/" +
			   impl->name + "/" + std::to_string(n);
	const Op *o = &op;
	uint64_t k = std::strcmp(op.name, "iterate") == 0 ? walks(n) : op.k;
	double ops = op.ops(n, k);

	// The array's one-by-one setup at 32764 takes 45 s (a grace period
	// per slot): by default in the dense layout only.
	if (array && std::strcmp(op.name, "setup") == 0 && n >= 32764 && layout != BENCH_DENSE &&
	    !long_run && !quick)
		return;
	auto *b = benchmark::RegisterBenchmark(
		name.c_str(), [o, impl, layout, n, k, ops](benchmark::State &st) {
			run_timed(st, impl, layout, n, k, ops, o->call);
		});
	b->UseManualTime()->Unit(benchmark::kNanosecond);
	// The array's slow writers at large N take seconds per call.
	if (op.slow && n >= 4096)
		b->Iterations(array || quick ? 1 : 3);
	else if (op.slow && n >= 509 && array)
		b->Iterations(quick ? 1 : 5);
	else if (long_run || quick)
		b->MinTime(min_time);
	else
		// A fixed count, not a calibration: its rounds cost more than
		// the work.  A reader call is 256-65536 operations.
		b->Iterations(op.k >= 256 ? 40 : 10);
	// The fast ones: medians, the machine is shared and noisy.
	if (!quick && !(op.slow && n >= 509))
		b->Repetitions(long_run ? 5 : 3)->ReportAggregatesOnly(true);
}

void register_all()
{
	const bench_impl *impls[] = {&bench_impl_array, &bench_impl_kvm, &bench_impl_btree};

	auto per_call = [](unsigned, uint64_t k) { return (double)k; };
	// Static: the registered lambdas keep pointers into it.
	static const std::vector<Op> ops = {
		{"setup", 1, true,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t) {
			 return i->setup(space(l, n));
		 },
		 [](unsigned n, uint64_t) { return (double)n; }},
		{"unmap_4k", 256, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->unmap(fixture(i, l, n), 4096, k);
		 },
		 per_call},
		{"unmap_2m", 256, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->unmap(fixture(i, l, n), 2u << 20, k);
		 },
		 per_call},
		{"gfn_random", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->gfn_random(fixture(i, l, n), k);
		 },
		 per_call},
		// 16 times the keys per thread: long enough that both run at once.
		{"gfn_random_2t", 65536, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->gfn_random_mt(fixture(i, l, n), k, 2);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"gfn_lru_hit", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->gfn_repeat(fixture(i, l, n), k);
		 },
		 per_call},
		{"gfn_cached", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->gfn_cached(fixture(i, l, n), k);
		 },
		 per_call},
		{"gfn_miss", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->gfn_miss(fixture(i, l, n), k);
		 },
		 per_call},
		{"dense_limit_random", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->dense_limit(fixture(i, l, n), k, 0);
		 },
		 per_call},
		{"dense_limit_miss", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->dense_limit(fixture(i, l, n), k, 1);
		 },
		 per_call},
		{"id_lookup", 4096, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->id_lookup(fixture(i, l, n), k);
		 },
		 per_call},
		{"gfn_range", 1024, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->gfn_range(fixture(i, l, n), k);
		 },
		 per_call},
		{"iterate", 0, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->iterate(fixture(i, l, n), k);
		 },
		 [](unsigned n, uint64_t k) { return (double)n * (double)k; }},
		{"move_inactive", 1, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->move(fixture(i, l, n), k, 0);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"move_active", 1, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->move(fixture(i, l, n), k, 1);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"flags_only", 1, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->flags(fixture(i, l, n), k);
		 },
		 [](unsigned, uint64_t k) { return 2.0 * (double)k; }},
		{"batch_flags_all", 1, false,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t k) {
			 return i->batch_flags(fixture(i, l, n), k);
		 },
		 per_call},
		{"batch_create_all", 1, true,
		 [](const bench_impl *i, unsigned l, unsigned n, uint64_t) {
			 return i->batch_create(space(l, n));
		 },
		 per_call},
		// Dirty logging: marks beside gfn_lru_hit and gfn_cached, the
		// collect of a 1 GiB slot (N is ignored: one slot), and logging
		// turned on for all N in one apply, without bitmaps for reference.
		{"dirty_mark_lru_hit", 4096, false,
		 [](const bench_impl *i, unsigned, unsigned n, uint64_t k) {
			 return i->dirty_mark(n, k, 0);
		 },
		 per_call, true},
		{"dirty_mark_cached", 4096, false,
		 [](const bench_impl *i, unsigned, unsigned n, uint64_t k) {
			 return i->dirty_mark(n, k, 1);
		 },
		 per_call, true},
		{"dirty_collect_1g_clean", 1, false,
		 [](const bench_impl *i, unsigned, unsigned, uint64_t k) {
			 return i->dirty_collect_1g(k, 0);
		 },
		 per_call, true, true},
		{"dirty_collect_1g_dirty", 1, false,
		 [](const bench_impl *i, unsigned, unsigned, uint64_t k) {
			 return i->dirty_collect_1g(k, 1);
		 },
		 per_call, true, true},
		{"dirty_enable_all_nobitmap", 1, false,
		 [](const bench_impl *i, unsigned, unsigned n, uint64_t k) {
			 return i->dirty_enable_all(n, k, 0);
		 },
		 per_call, true},
		{"dirty_enable_all", 1, false,
		 [](const bench_impl *i, unsigned, unsigned n, uint64_t k) {
			 return i->dirty_enable_all(n, k, MEMSLOTS_DIRTY_BITMAP);
		 },
		 per_call, true},
		{"dirty_enable_all_initially_set", 1, false,
		 [](const bench_impl *i, unsigned, unsigned n, uint64_t k) {
			 return i->dirty_enable_all(
				 n, k, MEMSLOTS_DIRTY_BITMAP | MEMSLOTS_DIRTY_INITIALLY_SET);
		 },
		 per_call, true},
	};

	for (unsigned layout : layouts) {
		std::vector<unsigned> ns;

		for (unsigned n : sizes)
			if (layout != BENCH_VMM32K || n == 32764)
				ns.push_back(n);
		for (const Op &op : ops)
			for (unsigned n : ns)
				for (const bench_impl *impl : impls)
					if (!(op.engine_only && (!impl->dirty_mark ||
								 layout != BENCH_DENSE)) &&
					    !(op.one_n && n != ns.back()))
						register_op(op, layout, n, impl);

		// Footprint: bytes through the config's allocator (no timing).
		for (unsigned n : ns) {
			for (const bench_impl *impl : impls) {
				std::string name = std::string(bench_layout_name(layout)) +
						   "/mem_per_slot/" + impl->name + "/" +
						   std::to_string(n);
				benchmark::RegisterBenchmark(
					name.c_str(), [impl, layout, n](benchmark::State &st) {
						size_t bytes = 0;

						for (auto _ : st) {
							bytes = impl->bytes(space(layout, n));
							st.SetIterationTime(1e-9);
						}
						st.counters["bytes"] = (double)bytes;
						st.counters["bytes_per_slot"] = (double)bytes / n;
						st.counters["N"] = n;
					})
					->UseManualTime()
					->Iterations(1);
			}
		}
	}
	for (const bench_impl *impl : impls) {
		std::string name = std::string("any/mem_sparse_2slots/") + impl->name + "/2";
		benchmark::RegisterBenchmark(name.c_str(), [impl](benchmark::State &st) {
			size_t bytes = 0;

			for (auto _ : st) {
				bytes = impl->bytes_sparse();
				st.SetIterationTime(1e-9);
			}
			st.counters["bytes"] = (double)bytes;
			st.counters["N"] = 2;
		})->UseManualTime()->Iterations(1);
	}
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<char *> rest;

	for (int i = 0; i < argc; i++) {
		if (std::strcmp(argv[i], "--bench_quick") == 0) {
			quick = true;
		} else if (std::strcmp(argv[i], "--bench_long") == 0) {
			long_run = true;
		} else if (std::strncmp(argv[i], "--bench_layouts=", 16) == 0) {
			layouts.clear();
			for (char *p = argv[i] + 16; *p;) {
				size_t len = std::strcspn(p, ",");
				unsigned l;

				for (l = 0; l < BENCH_NR_LAYOUTS; l++)
					if (std::strlen(bench_layout_name(l)) == len &&
					    std::strncmp(p, bench_layout_name(l), len) == 0)
						break;
				if (l == BENCH_NR_LAYOUTS) {
					std::fprintf(stderr, "bad --bench_layouts list: %s\n",
						     argv[i]);
					return 2;
				}
				layouts.push_back(l);
				p += len + (p[len] == ',');
			}
		} else if (std::strncmp(argv[i], "--bench_n=", 10) == 0) {
			sizes.clear();
			for (char *p = argv[i] + 10; *p;) {
				char *end;
				unsigned long v = std::strtoul(p, &end, 10);

				if (end == p || v == 0 || v > 32764) {
					std::fprintf(stderr, "bad --bench_n list: %s\n", argv[i]);
					return 2;
				}
				sizes.push_back((unsigned)v);
				p = *end == ',' ? end + 1 : end;
			}
		} else {
			rest.push_back(argv[i]);
		}
	}
	int rargc = (int)rest.size();

	register_all();
	benchmark::Initialize(&rargc, rest.data());
	if (benchmark::ReportUnrecognizedArguments(rargc, rest.data()))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	drop_all();
	return 0;
}
