// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the guest_memfd binding index alone: inserts and removes
 * of bindings (a few fd numbers, 0 and UINT32_MAX among them; byte ranges
 * small so they overlap and repeat, and at the top of the u64 range), and
 * queries, against brute force over the pool.  After every operation
 * ms_gmem_validate() must pass (red-black rules, (fd, start) order, each
 * node's largest (fd, last), the count); every query must return each
 * binding of its fd that meets the range exactly once, in start order, the
 * first with the lowest start.  Half the inserts follow the engine's
 * discipline (only when nothing of the fd meets the range), and then the
 * bindings of one fd must stay disjoint.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "gmem_index.h"

#define POOL 64u

struct gnode {
	struct ms_gmem_binding b;
	bool in_index;
};

static struct gnode pool[POOL];
static unsigned int nin;

static uint32_t fd_of(uint8_t b)
{
	static const uint32_t fds[] = {0, 1, 2, UINT32_MAX};

	return fds[b & 3];
}

static bool meets(const struct ms_gmem_binding *b, uint32_t fd, uint64_t start, uint64_t last)
{
	return b->fd == fd && b->start <= last && start <= b->last;
}

static void query(const struct ms_gmem_index *idx, uint32_t fd, uint64_t start, uint64_t last)
{
	uint64_t want = 0, lowest = UINT64_MAX;
	struct fz_walk walk = {0};
	const struct ms_gmem_binding *b;
	unsigned int i;

	for (i = 0; i < POOL; i++)
		if (pool[i].in_index && start <= last && meets(&pool[i].b, fd, start, last)) {
			want |= 1ull << i;
			if (pool[i].b.start < lowest)
				lowest = pool[i].b.start;
		}
	b = ms_gmem_find(idx, fd, start, last);
	FZ_CHECK(!b || b->start == lowest);
	FZ_CHECK(ms_gmem_intersects(idx, fd, start, last) == (want != 0));
	for (; b; b = ms_gmem_find_next(b, fd, start, last)) {
		i = (unsigned int)(ms_container_of(b, struct gnode, b) - pool);
		FZ_CHECK(i < POOL && pool[i].in_index);
		FZ_CHECK(meets(b, fd, start, last));
		fz_walk_meet(&walk, i, b->start);
	}
	FZ_CHECK(walk.met == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_gmem_index idx = MS_GMEM_INDEX_INIT;
	struct fz_in in = {data, size};
	unsigned int ops = 0, i, j;
	bool disciplined = size && (data[0] & 1);

	memset(pool, 0, sizeof(pool));
	nin = 0;
	while (in.n && ops++ < 512) {
		uint8_t op = fz_u8(&in), f = fz_u8(&in);
		struct gnode *n = &pool[fz_u8(&in) % POOL];
		uint64_t a, len;

		switch (op % 4) {
		case 0:
		case 1: /* insert [a, a + len) */
			a = fz_key(&in);
			len = 1 + fz_u8(&in) % 16;
			if (n->in_index || a + len - 1 < a)
				break;
			if (disciplined && ms_gmem_intersects(&idx, fd_of(f), a, a + len - 1))
				break;
			ms_gmem_binding_set(&n->b, fd_of(f), a, len);
			ms_gmem_insert(&idx, &n->b);
			n->in_index = true;
			nin++;
			break;
		case 2: /* remove */
			if (!n->in_index)
				break;
			ms_gmem_remove(&idx, &n->b);
			n->in_index = false;
			nin--;
			break;
		default: /* query, and everything of one fd */
			a = fz_key(&in);
			len = fz_u8(&in);
			query(&idx, fd_of(f), a, len & 0x80 ? a - (len & 7) : a + len % 24);
			query(&idx, fd_of(f >> 2), 0, UINT64_MAX);
			break;
		}
		FZ_CHECK(!ms_gmem_validate(&idx));
		FZ_CHECK(idx.count == nin);
	}
	for (i = 0; disciplined && i < POOL; i++)
		for (j = i + 1; j < POOL; j++)
			if (pool[i].in_index && pool[j].in_index)
				FZ_CHECK(!meets(&pool[i].b, pool[j].b.fd, pool[j].b.start,
						pool[j].b.last));
	return 0;
}
