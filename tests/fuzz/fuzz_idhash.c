// SPDX-License-Identifier: MIT
/*
 * Fuzz target for KVM's id hash alone (src/kvm_id_hash.h): adds, deletes
 * and replaces on two tables sharing a pool of elements (one node per
 * table in each, as a slot has one per set), decoded from the input,
 * against an id -> element map per table.  After every operation both
 * tables must pass ms_id_hash_check() with the model's count, every id
 * the input names must be found exactly when the model has it, and the
 * iteration must visit each member once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "kvm_id_hash.h"

#define POOL 64u

struct elem {
	uint16_t id;
	struct ms_id_hnode node[2];
};

static struct elem pool[POOL];
static struct elem *by_id[2][65536];
static struct ms_id_hash tables[2];
static unsigned int members[2];

static bool in(unsigned int t, const struct elem *e)
{
	return ms_id_hnode_hashed(&e->node[t]);
}

/* The first 64 ids of bucket 0, found once. */
static uint16_t bucket0[64];

static void find_bucket0(void)
{
	unsigned int n = 0;

	for (uint32_t id = 0; id < 65536 && n < 64; id++)
		if (ms_id_hash_bucket((uint16_t)id) == 0)
			bucket0[n++] = (uint16_t)id;
}

/* Mostly ids of one bucket or a few small ones, so chains grow; sometimes any. */
static uint16_t draw_id(struct fz_in *in)
{
	uint8_t b = fz_u8(in);

	if (b >= 0xf0)
		return (uint16_t)fz_u64(in);
	if (b >= 0x80)
		return bucket0[b & 63];
	return b % 48;
}

static void check(unsigned int t)
{
	const struct ms_id_hnode *n;
	unsigned int seen = 0;

	FZ_CHECK(ms_id_hash_check(&tables[t]) == NULL);
	FZ_CHECK(ms_id_hash_count(&tables[t]) == members[t]);
	for (n = ms_id_hash_first(&tables[t]); n; n = ms_id_hash_next(&tables[t], n)) {
		const struct elem *e = ms_id_hash_entry(n, t, struct elem, node);

		FZ_CHECK(++seen <= members[t]);
		FZ_CHECK(by_id[t][e->id] == e);
	}
	FZ_CHECK(seen == members[t]);
	for (unsigned int i = 0; i < POOL; i++)
		if (in(t, &pool[i]))
			FZ_CHECK(ms_id_hash_find(&tables[t], pool[i].id) == &pool[i].node[t]);
}

static void add(unsigned int t, struct elem *e, struct fz_in *inp)
{
	if (in(t, e))
		return;
	/* An element in the other table keeps its id (a shared slot). */
	if (!in(!t, e))
		e->id = draw_id(inp);
	if (by_id[t][e->id])
		return; /* the table's precondition: the id is not there */
	ms_id_hash_add(&tables[t], &e->node[t]);
	by_id[t][e->id] = e;
	members[t]++;
}

static void del(unsigned int t, struct elem *e)
{
	if (!in(t, e))
		return;
	ms_id_hash_del(&tables[t], &e->node[t]);
	FZ_CHECK(!in(t, e));
	by_id[t][e->id] = NULL;
	members[t]--;
}

static void replace(unsigned int t, struct elem *old, struct elem *fresh, bool same)
{
	int rc;

	if (!in(t, old) || in(t, fresh) || fresh == old)
		return;
	if (!in(!t, fresh) && same)
		fresh->id = old->id;
	rc = ms_id_hash_replace(&tables[t], &old->node[t], &fresh->node[t]);
	FZ_CHECK(rc == (fresh->id == old->id ? 0 : -EINVAL));
	if (rc) {
		FZ_CHECK(in(t, old) && !in(t, fresh));
		return;
	}
	FZ_CHECK(!in(t, old) && in(t, fresh));
	by_id[t][fresh->id] = fresh;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in inp = {data, size};
	unsigned int t, ops = 0;

	if (!bucket0[1])
		find_bucket0();
	memset(pool, 0, sizeof(pool));
	memset(by_id, 0, sizeof(by_id));
	members[0] = members[1] = 0;
	for (t = 0; t < 2; t++)
		ms_id_hash_init(&tables[t], MS_ID_HASH_OFF(struct elem, node, t, id));
	while (inp.n && ops++ < 512) {
		uint8_t op = fz_u8(&inp);
		struct elem *e = &pool[fz_u8(&inp) % POOL];
		uint16_t id;

		t = op >> 7;
		switch (op % 5) {
		case 0:
		case 1:
			add(t, e, &inp);
			break;
		case 2:
			del(t, e);
			break;
		case 3:
			replace(t, e, &pool[fz_u8(&inp) % POOL], op & 8);
			break;
		default:
			id = draw_id(&inp);
			FZ_CHECK(ms_id_hash_find(&tables[t], id) ==
				 (by_id[t][id] ? &by_id[t][id]->node[t] : NULL));
			break;
		}
		check(0);
		check(1);
	}
	return 0;
}
