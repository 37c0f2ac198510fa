// SPDX-License-Identifier: MIT
/*
 * The differential fuzz target's input decoding (fuzz_memslots.h):
 * requests from a few bytes each, in small spaces so that overlaps,
 * duplicates and id reuse are the common case, with a few large values
 * for the wraparound and limit rules.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <memslots/memslots.h>

#include "fuzz_common.h"
#include "fuzz_memslots.h"
#include "model.h"

static const uint64_t fz_interesting[] = {
	0,
	1,
	~0ull,
	~0ull << 12,
	1ull << 47,
	(1ull << 47) - 4096,
	MEMSLOTS_MAX_NR_PAGES << 12,
	(MEMSLOTS_MAX_NR_PAGES + 1) << 12,
	MEMSLOTS_MAX_NR_PAGES << 10,
	(MEMSLOTS_MAX_NR_PAGES + 1) << 10,
	1ull << 63,
	0x1000,
	0x400,
	0x40000000,
	0x800,
	0x10000,
};

uint64_t fz_page(void)
{
	return (uint64_t)1 << F.m.page_shift;
}

uint64_t fz_gfn_of(uint8_t b)
{
	/* mostly a crowded low range; a few at the very top of the gpa space */
	if (b >= 0xf0)
		return ((~0ull) >> F.m.page_shift) - (0xff - b) * 2;
	return b % 80;
}

static uint32_t fz_id_of(uint8_t b)
{
	uint32_t id = b % (F.m.max_slots < 16 ? F.m.max_slots + 2 : 18);

	if (F.m.max_slots > 1000 && (b & 0x80))
		id = F.m.max_slots - 1 - (b & 3); /* the top of a large id space */
	return id;
}

/*
 * The guest_memfd part of a v2 request, from one more byte: mostly a
 * guest_memfd create on one of four fd numbers at one of sixteen page
 * offsets (so ranges are bound twice often), sometimes with a flag
 * GUEST_MEMFD excludes, a misaligned or wrapping offset; or, for an
 * existing guest_memfd slot, its own fields (immutability, and deletes).
 */
static void fz_gmem_fields(struct fz_in *in, struct memslots_region2 *r,
			   const struct ts_model_slot *old)
{
	uint8_t g = fz_u8(in);
	uint64_t page = fz_page();

	if (old && (old->flags & MEMSLOT_GUEST_MEMFD) && !(g & 0x80)) {
		r->flags = (r->flags & ~(MEMSLOT_LOG_DIRTY_PAGES | MEMSLOT_READONLY)) |
			   (g & 1 ? MEMSLOT_GUEST_MEMFD : 0);
		r->guest_memfd = old->gmem_fd;
		r->guest_memfd_offset = old->gmem_offset;
		return;
	}
	if (!(g & 0x40)) {
		/* a request without GUEST_MEMFD: the fields are junk, ignored */
		r->guest_memfd = g;
		r->guest_memfd_offset = (uint64_t)g << 40;
		return;
	}
	r->flags = MEMSLOT_GUEST_MEMFD | (g & 0x20 ? r->flags : 0);
	r->guest_memfd = g & 3;
	switch ((g >> 2) & 7) {
	case 7:
		r->guest_memfd_offset = fz_interesting[(g >> 5) * 3 % 16];
		break;
	default:
		r->guest_memfd_offset = (uint64_t)((g >> 2) & 7) * 2 * page;
		break;
	}
}

struct memslots_region2 fz_request(struct fz_in *in, bool v2)
{
	uint8_t kind = fz_u8(in), a = fz_u8(in), b = fz_u8(in);
	uint32_t id = fz_id_of(a);
	const struct ts_model_slot *old =
		id < F.m.max_slots && F.m.slot[id].present ? &F.m.slot[id] : NULL;
	uint64_t page = fz_page();
	struct memslots_region2 r = {
		.slot = (uint32_t)F.m.as_id << 16 | id,
		.flags = kind >> 6,
		.guest_phys_addr = fz_gfn_of(b) << F.m.page_shift,
		.memory_size = (1 + (a >> 5)) * page,
		.userspace_addr = ((kind >> 3) & 7) * 4 * page,
	};

	switch (kind & 7) {
	case 0:
	case 1: /* as decoded: mostly creates, or changes refused with -EINVAL */
		break;
	case 2: /* delete */
		r.memory_size = 0;
		break;
	case 3: /* move an existing slot */
	case 4: /* change its flags */
		if (old) {
			r.memory_size = old->npages * page;
			r.userspace_addr = old->hva;
			if ((kind & 7) == 4) {
				r.guest_phys_addr = old->base_gfn << F.m.page_shift;
				r.flags = old->flags ^
					  (b & 1 ? MEMSLOT_LOG_DIRTY_PAGES : MEMSLOT_READONLY);
			} else {
				r.flags = old->flags ^ (kind & 0x40 ? MEMSLOT_LOG_DIRTY_PAGES : 0);
			}
		}
		break;
	case 5: /* exactly the slot as it is: nothing changes */
		if (old) {
			r.memory_size = old->npages * page;
			r.userspace_addr = old->hva;
			r.guest_phys_addr = old->base_gfn << F.m.page_shift;
			r.flags = old->flags;
		}
		break;
	case 6: /* one field replaced by an interesting or raw value */
		switch (b & 7) {
		case 0:
			r.flags = (uint32_t)fz_interesting[a % 16] | (1u << (a % 32));
			break;
		case 1:
			r.slot |= (uint32_t)(a | 1) << 16;
			break;
		case 2:
			r.guest_phys_addr = fz_interesting[a % 16];
			break;
		case 3:
			r.memory_size = fz_interesting[a % 16];
			break;
		case 4:
			r.userspace_addr = fz_interesting[a % 16];
			break;
		case 5:
			r.userspace_addr = fz_interesting[a % 16] - r.memory_size;
			break;
		case 6:
			r.guest_phys_addr = (~0ull << F.m.page_shift) - (a % 4) * page;
			break;
		default: /* random address-space bits */
			r.slot |= (uint32_t)fz_u64(in) & 0xffff0000u;
			break;
		}
		break;
	default: /* raw */
		r.slot = (uint32_t)F.m.as_id << 16 | (uint32_t)(fz_u64(in) % 24);
		r.flags = fz_u8(in) & 0x7;
		r.guest_phys_addr = fz_u64(in);
		r.memory_size = fz_u64(in);
		r.userspace_addr = fz_u64(in);
		break;
	}
	if (v2)
		fz_gmem_fields(in, &r, old);
	return r;
}

/*
 * Dirty logging's readers, decoded: a mark of a range (mostly a few pages
 * around the crowded gfns, sometimes one that runs to the top of the
 * space), or a merge or collect of a range of a slot named as requests
 * name them (some misaligned, some past the slot's end), on the engine
 * and the dirty model alike.
 */
void fz_dirty_op(struct fz_in *in)
{
	uint8_t x = fz_u8(in), y = fz_u8(in), z = fz_u8(in);
	uint64_t buf[FZ_DIRTY_WORDS + 1], mbuf[FZ_DIRTY_WORDS + 1];
	const struct memslots_set *set;
	uint16_t id = (uint16_t)fz_id_of(y);
	uint64_t first = (uint64_t)(z & 7) * 64 + (z & 8 ? 1 + (z >> 4) : 0);
	uint64_t npages = x >> 3 & 1 ? fz_u8(in) % (FZ_DIRTY_WORDS * 64) : 1 + (x >> 4);

	set = memslots_read_lock(F.ms);
	switch (x & 3) {
	case 0:
	case 1: {
		uint64_t gfn = fz_gfn_of(y), n = z & 0x80 ? ~0ull - (z & 1) : 1 + (z & 0x7f);
		uint64_t got = x & 4 ? memslots_dirty_mark_cached(set, &fz_cache, gfn, n)
				     : memslots_dirty_mark(set, gfn, n);

		FZ_CHECK(got == ts_dirty_model_mark(&F.d, &F.m, gfn, n));
		break;
	}
	case 2:
		for (size_t i = 0; i <= FZ_DIRTY_WORDS; i++)
			buf[i] = ts_rng_next(&fz_rng) & ts_rng_next(&fz_rng);
		FZ_CHECK(memslots_dirty_merge(set, id, buf, first, npages) ==
			 ts_dirty_model_merge(&F.d, &F.m, id, buf, first, npages));
		break;
	default:
		for (size_t i = 0; i <= FZ_DIRTY_WORDS; i++)
			buf[i] = mbuf[i] = ts_rng_next(&fz_rng);
		FZ_CHECK(memslots_dirty_collect(set, id, buf, first, npages) ==
			 ts_dirty_model_collect(&F.d, &F.m, id, mbuf, first, npages));
		FZ_CHECK(!memcmp(buf, mbuf, sizeof(buf)));
		break;
	}
	memslots_read_unlock(F.ms);
}
