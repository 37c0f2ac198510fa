/* SPDX-License-Identifier: MIT */
/*
 * The intrusive id hash: see idhash.h for the contract.
 *
 * Resizing is split into prepare (allocate) and commit (rehash, free) so
 * that the engine can allocate everything a change needs before it touches
 * any structure, and then install without a failure path.
 */
#include "idhash.h"

#include <assert.h>
#include <errno.h>

/*
 * Largest table: 2^30 buckets (8 GiB of pointers on 64-bit) is far more
 * than 65536 ids ever need; the cap keeps the shift arithmetic and the
 * size computation away from overflow for absurd @count values.
 */
#define MS_HASH_MAX_SHIFT 30u

static uint32_t ms_hash_min_shift(void)
{
	return (uint32_t)__builtin_ctz(MS_HASH_MIN_BUCKETS);
}

/* log2 of the bucket count for @count elements, or 0 if it is too large. */
static uint32_t ms_hash_shift_for(size_t count)
{
	/* buckets needed: count / MAX_LOAD rounded up, without overflow */
	size_t need = count / MS_HASH_MAX_LOAD + (count % MS_HASH_MAX_LOAD != 0);
	uint32_t shift = ms_hash_min_shift();

	while (need > ((size_t)1 << shift)) {
		if (++shift > MS_HASH_MAX_SHIFT)
			return 0;
	}
	return shift;
}

size_t ms_hash_buckets_for(size_t count)
{
	uint32_t shift = ms_hash_shift_for(count);

	return shift ? (size_t)1 << shift : 0;
}

int ms_hash_init(struct ms_hash *h, const struct ms_alloc *alloc)
{
	h->alloc = alloc;
	h->shift = ms_hash_min_shift();
	h->count = 0;
	h->buckets = ms_calloc(alloc, MS_HASH_MIN_BUCKETS, sizeof(*h->buckets));
	return h->buckets ? 0 : -ENOMEM;
}

void ms_hash_destroy(struct ms_hash *h)
{
	ms_free(h->alloc, h->buckets);
	h->buckets = NULL;
	h->count = 0;
}

struct ms_hnode *ms_hash_find(const struct ms_hash *h, uint32_t key)
{
	return ms_hash_find_inline(h, key);
}

void ms_hash_add(struct ms_hash *h, struct ms_hnode *node, uint32_t key)
{
	struct ms_hnode **head = &h->buckets[ms_hash_index(key, h->shift)];

	assert(!ms_hash_find(h, key));
	node->key = key;
	node->next = *head;
	*head = node;
	h->count++;
}

/* The link that points to @node; @node must be in the table. */
static struct ms_hnode **ms_hash_link_of(struct ms_hash *h, const struct ms_hnode *node)
{
	struct ms_hnode **pp = &h->buckets[ms_hash_index(node->key, h->shift)];

	while (*pp != node) {
		assert(*pp);
		pp = &(*pp)->next;
	}
	return pp;
}

void ms_hash_del(struct ms_hash *h, struct ms_hnode *node)
{
	struct ms_hnode **pp = ms_hash_link_of(h, node);

	*pp = node->next;
	node->next = NULL;
	h->count--;
}

void ms_hash_replace(struct ms_hash *h, struct ms_hnode *old, struct ms_hnode *new)
{
	struct ms_hnode **pp = ms_hash_link_of(h, old);

	new->key = old->key;
	new->next = old->next;
	*pp = new;
	old->next = NULL;
}

int ms_hash_prepare_resize(const struct ms_hash *h, size_t count, bool grow_only,
			   struct ms_hash_resize *r)
{
	size_t cur = ms_hash_buckets(h);
	uint32_t shift;

	r->buckets = NULL;
	r->shift = h->shift;

	shift = ms_hash_shift_for(count);
	if (!shift)
		return -ENOMEM;
	/*
	 * Grow to the smallest table within the load bound.  Shrink only below
	 * a quarter of the bound: growth happens past count == buckets * load,
	 * so a count hovering around one boundary never makes the table flip
	 * back and forth.
	 */
	if (shift <= h->shift &&
	    (grow_only || cur <= MS_HASH_MIN_BUCKETS || count >= cur / 4 * MS_HASH_MAX_LOAD))
		return 0;
	r->buckets = ms_calloc(h->alloc, (size_t)1 << shift, sizeof(*r->buckets));
	if (!r->buckets)
		return -ENOMEM;
	r->shift = shift;
	return 0;
}

/* Whether 2^@shift buckets hold @count elements within the load bound. */
static bool ms_hash_fits(uint32_t shift, size_t count)
{
	return ((size_t)1 << shift) * MS_HASH_MAX_LOAD >= count;
}

int ms_hash_plan_growth(const struct ms_hash *h, size_t count, struct ms_hash_resize *plan)
{
	struct ms_hash_resize r;
	int err;

	if (ms_hash_fits(plan->buckets ? plan->shift : h->shift, count))
		return 0;
	err = ms_hash_prepare_resize(h, count, true, &r);
	if (err)
		return err;
	ms_hash_cancel_resize(h, plan);
	*plan = r;
	return 0;
}

void ms_hash_commit_resize(struct ms_hash *h, struct ms_hash_resize *r)
{
	size_t i, n = ms_hash_buckets(h);

	if (!r->buckets)
		return;
	for (i = 0; i < n; i++) {
		struct ms_hnode *node = h->buckets[i], *next;

		for (; node; node = next) {
			struct ms_hnode **head = &r->buckets[ms_hash_index(node->key, r->shift)];

			next = node->next;
			node->next = *head;
			*head = node;
		}
	}
	ms_free(h->alloc, h->buckets);
	h->buckets = r->buckets;
	h->shift = r->shift;
	r->buckets = NULL;
}

void ms_hash_cancel_resize(const struct ms_hash *h, struct ms_hash_resize *r)
{
	ms_free(h->alloc, r->buckets);
	r->buckets = NULL;
}

int ms_hash_reserve(struct ms_hash *h, size_t count)
{
	struct ms_hash_resize r;
	int err = ms_hash_prepare_resize(h, count, true, &r);

	if (err)
		return err;
	ms_hash_commit_resize(h, &r);
	return 0;
}

void ms_hash_shrink(struct ms_hash *h)
{
	struct ms_hash_resize r;

	/* Best effort: a table that cannot shrink now is merely too big. */
	if (!ms_hash_prepare_resize(h, h->count, false, &r))
		ms_hash_commit_resize(h, &r);
}

static struct ms_hnode *ms_hash_scan(const struct ms_hash *h, size_t *bucket, size_t from)
{
	size_t i, n = ms_hash_buckets(h);

	for (i = from; i < n; i++) {
		if (h->buckets[i]) {
			*bucket = i;
			return h->buckets[i];
		}
	}
	*bucket = n;
	return NULL;
}

struct ms_hnode *ms_hash_iter_first(const struct ms_hash *h, size_t *bucket)
{
	return ms_hash_scan(h, bucket, 0);
}

struct ms_hnode *ms_hash_iter_next(const struct ms_hash *h, size_t *bucket,
				   const struct ms_hnode *node)
{
	if (node->next)
		return node->next;
	return ms_hash_scan(h, bucket, *bucket + 1);
}

int ms_hash_validate(const struct ms_hash *h)
{
	size_t i, n, seen = 0;

	if (!h->buckets || h->shift < ms_hash_min_shift() || h->shift > MS_HASH_MAX_SHIFT)
		return -EINVAL;
	n = ms_hash_buckets(h);
	for (i = 0; i < n; i++) {
		const struct ms_hnode *node, *other;
		size_t len;

		for (node = h->buckets[i]; node; node = node->next) {
			if (ms_hash_index(node->key, h->shift) != i)
				return -EINVAL;
			/* a cycle would make count wrong before it loops forever */
			if (++seen > h->count)
				return -EINVAL;
			len = 0;
			for (other = node->next; other; other = other->next) {
				if (other->key == node->key || ++len > h->count)
					return -EINVAL;
			}
		}
	}
	return seen == h->count ? 0 : -EINVAL;
}
