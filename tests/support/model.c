/* SPDX-License-Identifier: MIT */
/* The model of the contract's rules: see model.h. */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const ts_model_reasons[TS_MODEL_NR_REASONS] = {
	[TS_MODEL_BAD_FLAGS] = "a flag the config or the call does not allow",
	[TS_MODEL_GMEM_FLAGS] = "GUEST_MEMFD with LOG_DIRTY_PAGES or READONLY",
	[TS_MODEL_MISALIGNED] = "misaligned size, gpa or hva",
	[TS_MODEL_HVA_WRAPS] = "hva + size wraps",
	[TS_MODEL_HVA_LIMIT] = "hva + size over hva_limit",
	[TS_MODEL_GMEM_OFFSET] = "guest_memfd offset misaligned, or offset + size wraps",
	[TS_MODEL_BAD_ID] = "address space other than as_id, or id >= max_slots",
	[TS_MODEL_GPA_WRAPS] = "gpa + size wraps",
	[TS_MODEL_TOO_BIG] = "more than MEMSLOTS_MAX_NR_PAGES",
	[TS_MODEL_NAMED_TWICE] = "id named twice in a batch",
	[TS_MODEL_DELETE_ABSENT] = "delete of an absent id",
	[TS_MODEL_CREATE_OVERLAP] = "create overlapping a slot",
	[TS_MODEL_GMEM_BOUND] = "guest_memfd range bound by another slot",
	[TS_MODEL_IMMUTABLE] = "guest_memfd slot changed, or READONLY or GUEST_MEMFD toggled",
	[TS_MODEL_FIXED_FIELD] = "change of size or hva",
	[TS_MODEL_MOVE_OVERLAP] = "move overlapping a slot",
};

void ts_model_init(struct ts_model *m, unsigned int page_shift, unsigned int max_slots,
		uint64_t hva_limit)
{
	memset(m, 0, sizeof(*m));
	m->page_shift = page_shift;
	m->max_slots = max_slots;
	m->hva_limit = hva_limit;
	ts_model_set_surface(m, 0, 0);
	m->slot = calloc(max_slots, sizeof(*m->slot));
	m->ids = calloc(max_slots, sizeof(*m->ids));
	m->supported_attributes = MEMSLOTS_ATTR_PRIVATE;
	m->attr = calloc(TS_MODEL_ATTR_GFNS, sizeof(*m->attr));
	TS_CHECK(m->slot && m->ids && m->attr, "ts_model_init: out of memory");
}

void ts_model_set_surface(struct ts_model *m, uint32_t allowed_flags, uint16_t as_id)
{
	m->allowed_flags =
		(allowed_flags ? allowed_flags : TS_MODEL_ALL_FLAGS) | MEMSLOT_LOG_DIRTY_PAGES;
	m->as_id = as_id;
}

void ts_model_fini(struct ts_model *m)
{
	free(m->slot);
	free(m->ids);
	free(m->attr);
	m->slot = NULL;
	m->ids = NULL;
	m->attr = NULL;
}

void ts_model_clear(struct ts_model *m)
{
	static const struct ts_model_slot absent;

	while (m->count)
		ts_model_set_slot(m, m->ids[0], &absent);
	memset(m->attr, 0, TS_MODEL_ATTR_GFNS * sizeof(*m->attr));
}

void ts_model_copy(struct ts_model *dst, const struct ts_model *src)
{
	ts_model_init(dst, src->page_shift, src->max_slots, src->hva_limit);
	dst->allowed_flags = src->allowed_flags;
	dst->as_id = src->as_id;
	ts_model_assign(dst, src);
	dst->id_probe_limit = src->id_probe_limit;
}

void ts_model_assign(struct ts_model *dst, const struct ts_model *src)
{
	TS_CMP(dst->max_slots, ==, src->max_slots);
	memcpy(dst->slot, src->slot, src->max_slots * sizeof(*dst->slot));
	memcpy(dst->ids, src->ids, src->max_slots * sizeof(*dst->ids));
	dst->count = src->count;
	dst->nr_pages = src->nr_pages;
	dst->supported_attributes = src->supported_attributes;
	memcpy(dst->attr, src->attr, TS_MODEL_ATTR_GFNS * sizeof(*dst->attr));
}

void ts_model_set_slot(struct ts_model *m, unsigned int id, const struct ts_model_slot *s)
{
	struct ts_model_slot *cur = &m->slot[id];
	unsigned int pos = cur->pos;

	TS_CMP(id, <, m->max_slots);
	if (cur->present) {
		/* out of the list: the last id takes its place */
		m->ids[pos] = m->ids[--m->count];
		m->slot[m->ids[pos]].pos = pos;
		m->nr_pages -= cur->npages;
	}
	*cur = *s;
	if (cur->present) {
		cur->pos = (unsigned int)m->count;
		m->ids[m->count++] = id;
		m->nr_pages += cur->npages;
	}
}

struct memslots_region ts_model_region(unsigned int page_shift, uint32_t slot, uint32_t flags,
				    uint64_t gfn, uint64_t npages, uint64_t hva)
{
	struct memslots_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gfn << page_shift,
		.memory_size = npages << page_shift,
		.userspace_addr = hva,
	};
	return r;
}

struct memslots_region2 ts_model_widen(const struct memslots_region *r)
{
	struct memslots_region2 w = {
		.slot = r->slot,
		.flags = r->flags,
		.guest_phys_addr = r->guest_phys_addr,
		.memory_size = r->memory_size,
		.userspace_addr = r->userspace_addr,
	};
	return w;
}

struct memslots_region2 ts_model_widen2(unsigned int page_shift, uint32_t slot, uint32_t flags,
				     uint64_t gfn, uint64_t npages, uint64_t hva)
{
	struct memslots_region r = ts_model_region(page_shift, slot, flags, gfn, npages, hva);

	return ts_model_widen(&r);
}

static bool ts_model_overlaps_other(const struct ts_model *m, unsigned int id, uint64_t gfn,
				 uint64_t npages)
{
	for (size_t i = 0; i < m->count; i++) {
		const struct ts_model_slot *s = &m->slot[m->ids[i]];

		if (m->ids[i] == id)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

/* Whether a GUEST_MEMFD slot other than @id binds bytes of @fd that meet
 * [offset, offset + size). */
static bool ts_model_gmem_bound(const struct ts_model *m, unsigned int id, uint32_t fd,
				uint64_t offset, uint64_t size)
{
	for (size_t i = 0; i < m->count; i++) {
		const struct ts_model_slot *s = &m->slot[m->ids[i]];
		uint64_t s_size = s->npages << m->page_shift;

		if (m->ids[i] == id || !(s->flags & MEMSLOT_GUEST_MEMFD) || s->gmem_fd != fd)
			continue;
		if (offset < s->gmem_offset + s_size && s->gmem_offset < offset + size)
			return true;
	}
	return false;
}

static int ts_model_refuse(enum ts_model_reason *why, enum ts_model_reason reason, int err)
{
	if (why)
		*why = reason;
	return err;
}

int ts_model_classify2_why(const struct ts_model *m, const struct memslots_region2 *r, bool v1,
			int *change, enum ts_model_reason *why)
{
	uint64_t pmask = (1ull << m->page_shift) - 1;
	unsigned int id = r->slot & 0xffff;
	uint64_t gfn = r->guest_phys_addr >> m->page_shift;
	uint64_t npages = r->memory_size >> m->page_shift;
	uint32_t allowed = v1 ? m->allowed_flags & TS_MODEL_VALID_FLAGS : m->allowed_flags;
	bool gmem = r->flags & MEMSLOT_GUEST_MEMFD;
	const struct ts_model_slot *s;

	if (why)
		*why = TS_MODEL_OK;
	/* 1 */
	if (r->flags & ~allowed)
		return ts_model_refuse(why, TS_MODEL_BAD_FLAGS, -EINVAL);
	if (gmem && (r->flags & TS_MODEL_VALID_FLAGS))
		return ts_model_refuse(why, TS_MODEL_GMEM_FLAGS, -EINVAL);
	/* 2 */
	if ((r->memory_size & pmask) || (r->guest_phys_addr & pmask) || (r->userspace_addr & pmask))
		return ts_model_refuse(why, TS_MODEL_MISALIGNED, -EINVAL);
	if (r->userspace_addr + r->memory_size < r->userspace_addr)
		return ts_model_refuse(why, TS_MODEL_HVA_WRAPS, -EINVAL);
	if (m->hva_limit && r->userspace_addr + r->memory_size > m->hva_limit)
		return ts_model_refuse(why, TS_MODEL_HVA_LIMIT, -EINVAL);
	if (gmem && ((r->guest_memfd_offset & pmask) ||
		     r->guest_memfd_offset + r->memory_size < r->guest_memfd_offset))
		return ts_model_refuse(why, TS_MODEL_GMEM_OFFSET, -EINVAL);
	if ((r->slot >> 16) != m->as_id || id >= m->max_slots)
		return ts_model_refuse(why, TS_MODEL_BAD_ID, -EINVAL);
	/* 3 */
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return ts_model_refuse(why, TS_MODEL_GPA_WRAPS, -EINVAL);
	if (npages > MEMSLOTS_MAX_NR_PAGES)
		return ts_model_refuse(why, TS_MODEL_TOO_BIG, -EINVAL);
	s = &m->slot[id];
	/* 4 */
	if (!r->memory_size) {
		if (!s->present)
			return ts_model_refuse(why, TS_MODEL_DELETE_ABSENT, -EINVAL);
		*change = MEMSLOTS_DELETE;
		return 0;
	}
	/* 5, and 7 */
	if (!s->present) {
		if (ts_model_overlaps_other(m, id, gfn, npages))
			return ts_model_refuse(why, TS_MODEL_CREATE_OVERLAP, -EEXIST);
		if (gmem && ts_model_gmem_bound(m, id, r->guest_memfd, r->guest_memfd_offset,
						r->memory_size))
			return ts_model_refuse(why, TS_MODEL_GMEM_BOUND, -EINVAL);
		*change = MEMSLOTS_CREATE;
		return 0;
	}
	/* 6 */
	if (gmem || ((r->flags ^ s->flags) & (MEMSLOT_READONLY | MEMSLOT_GUEST_MEMFD)))
		return ts_model_refuse(why, TS_MODEL_IMMUTABLE, -EINVAL);
	if (r->userspace_addr != s->hva || npages != s->npages)
		return ts_model_refuse(why, TS_MODEL_FIXED_FIELD, -EINVAL);
	if (gfn != s->base_gfn) {
		if (ts_model_overlaps_other(m, id, gfn, npages))
			return ts_model_refuse(why, TS_MODEL_MOVE_OVERLAP, -EEXIST);
		*change = MEMSLOTS_MOVE;
		return 0;
	}
	*change = r->flags != s->flags ? MEMSLOTS_FLAGS_ONLY : TS_MODEL_NOOP;
	return 0;
}

int ts_model_classify2(const struct ts_model *m, const struct memslots_region2 *r, int *change)
{
	return ts_model_classify2_why(m, r, false, change, NULL);
}

int ts_model_classify_why(const struct ts_model *m, const struct memslots_region *r, int *change,
		       enum ts_model_reason *why)
{
	struct memslots_region2 w = ts_model_widen(r);

	return ts_model_classify2_why(m, &w, true, change, why);
}

int ts_model_classify(const struct ts_model *m, const struct memslots_region *r, int *change)
{
	return ts_model_classify_why(m, r, change, NULL);
}

void ts_model_commit2(struct ts_model *m, const struct memslots_region2 *r, int change)
{
	unsigned int id = r->slot & 0xffff;
	struct ts_model_slot s = m->slot[id];

	switch (change) {
	case MEMSLOTS_CREATE:
		s.present = true;
		s.priv = NULL;
		s.npages = r->memory_size >> m->page_shift;
		s.hva = r->userspace_addr;
		/* only a create can make a GUEST_MEMFD slot */
		s.gmem_offset = r->flags & MEMSLOT_GUEST_MEMFD ? r->guest_memfd_offset : 0;
		s.gmem_fd = r->flags & MEMSLOT_GUEST_MEMFD ? r->guest_memfd : 0;
		/* fall through */
	case MEMSLOTS_MOVE:
	case MEMSLOTS_FLAGS_ONLY:
		s.base_gfn = r->guest_phys_addr >> m->page_shift;
		s.flags = r->flags;
		break;
	case MEMSLOTS_DELETE:
		s.present = false;
		break;
	default:
		return;
	}
	ts_model_set_slot(m, id, &s);
}

void ts_model_commit(struct ts_model *m, const struct memslots_region *r, int change)
{
	struct memslots_region2 w = ts_model_widen(r);

	ts_model_commit2(m, &w, change);
}

void ts_model_result_fini(struct ts_model_result *res)
{
	free(res->change);
	free(res->index);
	res->change = NULL;
	res->index = NULL;
}

/*
 * ts_model_apply() and ts_model_apply2(): @r is an array of v1 requests (@v1) or
 * of v2 ones; each is read as its v2 form.
 */
static void ts_model_apply_any(struct ts_model *m, const void *r, bool v1, size_t n, int fail_id,
			    int fail_err, struct ts_model_result *res)
{
	struct ts_model tmp;
	bool *named;

	memset(res, 0, sizeof(*res));
	res->change = calloc(n + 1, sizeof(*res->change));
	res->index = calloc(n + 1, sizeof(*res->index));
	named = calloc(65536, sizeof(*named));
	TS_CHECK(res->change && res->index && named, "out of memory");
	ts_model_copy(&tmp, m);

	for (size_t i = 0; i < n; i++) {
		struct memslots_region2 ri =
			v1 ? ts_model_widen(&((const struct memslots_region *)r)[i])
			   : ((const struct memslots_region2 *)r)[i];
		unsigned int id = ri.slot & 0xffff;
		int change = TS_MODEL_NOOP;
		int err = ts_model_classify2_why(&tmp, &ri, v1, &change, NULL);

		if (named[id] && (ri.slot >> 16) == m->as_id) {
			res->alt_ret = err == -EEXIST ? -EEXIST : -EINVAL;
			err = -EINVAL;
		} else {
			res->alt_ret = err;
		}
		if (!err && change != TS_MODEL_NOOP) {
			res->change[res->nr_changes] = change;
			res->index[res->nr_changes] = i;
			res->nr_changes++;
			if ((int)id == fail_id) {
				err = fail_err;
				res->alt_ret = err;
				res->prepare_failed = true;
			}
		}
		if (err) {
			res->ret = err;
			res->failed_index = i;
			goto out;
		}
		named[id] = true;
		if (change == MEMSLOTS_DELETE || change == MEMSLOTS_MOVE)
			res->invalidates = true;
		ts_model_commit2(&tmp, &ri, change);
	}
	res->ret = 0;
	res->alt_ret = 0;
	ts_model_assign(m, &tmp);
out:
	ts_model_fini(&tmp);
	free(named);
}

void ts_model_apply(struct ts_model *m, const struct memslots_region *r, size_t n, int fail_id,
		 int fail_err, struct ts_model_result *res)
{
	ts_model_apply_any(m, r, true, n, fail_id, fail_err, res);
}

void ts_model_apply2(struct ts_model *m, const struct memslots_region2 *r, size_t n, int fail_id,
		  int fail_err, struct ts_model_result *res)
{
	ts_model_apply_any(m, r, false, n, fail_id, fail_err, res);
}

/* ---- memory attributes ------------------------------------------------------ */

int ts_model_attr_check(const struct ts_model *m, const struct memslots_attributes *a,
			bool *changes)
{
	uint64_t page = 1ull << m->page_shift;
	uint64_t gfn, end;

	if (a->flags)
		return -EINVAL;
	if (a->attributes & ~m->supported_attributes)
		return -EINVAL;
	if (a->size == 0 || a->address + a->size < a->address)
		return -EINVAL;
	if (a->address % page || a->size % page)
		return -EINVAL;
	if (changes) {
		*changes = false;
		gfn = a->address >> m->page_shift;
		end = gfn + (a->size >> m->page_shift);
		for (; gfn < end && !*changes; gfn++) {
			/* Beyond the array every word is 0: one probe says it. */
			if (gfn >= TS_MODEL_ATTR_GFNS) {
				*changes = a->attributes != 0;
				break;
			}
			*changes = m->attr[gfn] != a->attributes;
		}
	}
	return 0;
}

void ts_model_attr_commit(struct ts_model *m, const struct memslots_attributes *a)
{
	uint64_t gfn = a->address >> m->page_shift;
	uint64_t n = a->size >> m->page_shift;

	TS_CHECK(gfn < TS_MODEL_ATTR_GFNS && n <= TS_MODEL_ATTR_GFNS - gfn,
		 "ts_model_attr_commit: gfns %#llx + %#llx beyond the model's space",
		 (unsigned long long)gfn, (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++)
		m->attr[gfn + i] = a->attributes;
}

uint64_t ts_model_attr_get(const struct ts_model *m, uint64_t gfn, uint64_t *run_end)
{
	uint64_t word, next;

	if (gfn >= TS_MODEL_ATTR_GFNS) {
		/* 0 from the array's end to the top */
		if (run_end)
			*run_end = UINT64_MAX;
		return 0;
	}
	word = m->attr[gfn];
	if (!run_end)
		return word;
	for (next = gfn + 1; next < TS_MODEL_ATTR_GFNS && m->attr[next] == word;)
		next++;
	/* Past the array every gfn is 0: a 0 run there reaches the top. */
	*run_end = next >= TS_MODEL_ATTR_GFNS && !word ? UINT64_MAX : next;
	return word;
}

size_t ts_model_attr_runs(const struct ts_model *m)
{
	size_t runs = 1;

	for (unsigned int g = 1; g < TS_MODEL_ATTR_GFNS; g++)
		runs += m->attr[g] != m->attr[g - 1];
	/* the 0s above the array are one more run unless the last word is 0 */
	return runs + (m->attr[TS_MODEL_ATTR_GFNS - 1] != 0);
}

struct memslots_attributes ts_model_attr_request(const struct ts_model *m, uint64_t gfn,
					      uint64_t npages, uint64_t attributes)
{
	struct memslots_attributes a = {
		.address = gfn << m->page_shift,
		.size = npages << m->page_shift,
		.attributes = attributes,
	};

	return a;
}
