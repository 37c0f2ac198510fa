/* SPDX-License-Identifier: MIT */
/* KVM's 128-bucket id hash of intrusive chains (see kvm_id_hash.h). */
#include <errno.h>
#include <string.h>

#include "kvm_id_hash.h"

void ms_id_hash_init(struct ms_id_hash *h, ptrdiff_t id_off)
{
	memset(h->bucket, 0, sizeof(h->bucket));
	h->id_off = id_off;
	h->count = 0;
}

void ms_id_hash_add(struct ms_id_hash *h, struct ms_id_hnode *n)
{
	struct ms_id_hnode **head = &h->bucket[ms_id_hash_bucket(ms_id_hash_id(h, n))];

	/* At the head: no walk, and the chain's order is newest first, as KVM's. */
	n->next = *head;
	if (n->next)
		n->next->pprev = &n->next;
	n->pprev = head;
	*head = n;
	h->count++;
}

void ms_id_hash_del(struct ms_id_hash *h, struct ms_id_hnode *n)
{
	/* The link that pointed at @n now skips it; the bucket is not needed. */
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	h->count--;
}

int ms_id_hash_replace(struct ms_id_hash *h, struct ms_id_hnode *old, struct ms_id_hnode *new)
{
	/* Same id, same bucket: @new can take @old's place in the chain. */
	if (ms_id_hash_id(h, new) != ms_id_hash_id(h, old))
		return -EINVAL;
	new->next = old->next;
	new->pprev = old->pprev;
	if (new->next)
		new->next->pprev = &new->next;
	*new->pprev = new;
	old->next = NULL;
	old->pprev = NULL;
	return 0;
}

/* ---- readers ---------------------------------------------------------------- */

struct ms_id_hnode *ms_id_hash_find(const struct ms_id_hash *h, uint16_t id)
{
	struct ms_id_hnode *n;

	for (n = h->bucket[ms_id_hash_bucket(id)]; n; n = n->next)
		if (ms_id_hash_id(h, n) == id)
			return n;
	return NULL;
}

/* The head of the first non-empty bucket from @b on, or NULL. */
static struct ms_id_hnode *ms_id_hash_scan(const struct ms_id_hash *h, unsigned int b)
{
	for (; b < MS_ID_HASH_BUCKETS; b++)
		if (h->bucket[b])
			return h->bucket[b];
	return NULL;
}

struct ms_id_hnode *ms_id_hash_first(const struct ms_id_hash *h)
{
	return ms_id_hash_scan(h, 0);
}

struct ms_id_hnode *ms_id_hash_next(const struct ms_id_hash *h, const struct ms_id_hnode *n)
{
	/* The end of a chain: its id says which bucket to go on after. */
	if (n->next)
		return n->next;
	return ms_id_hash_scan(h, ms_id_hash_bucket(ms_id_hash_id(h, n)) + 1);
}

/* ---- validation ------------------------------------------------------------- */

const char *ms_id_hash_check(const struct ms_id_hash *h)
{
	uint64_t seen[65536 / 64];
	size_t count = 0;
	unsigned int b;

	memset(seen, 0, sizeof(seen));
	for (b = 0; b < MS_ID_HASH_BUCKETS; b++) {
		struct ms_id_hnode *const *link = &h->bucket[b];
		const struct ms_id_hnode *n;

		for (n = *link; n; link = &n->next, n = n->next) {
			uint16_t id = ms_id_hash_id(h, n);

			/* Bounds the walk: a cycle is found before it loops. */
			if (++count > h->count)
				return "id hash: more nodes than the count (or a cycle)";
			if (n->pprev != link)
				return "id hash: a node's back link is not the link to it";
			if (ms_id_hash_bucket(id) != b)
				return "id hash: a node is not in its id's bucket";
			if (seen[id / 64] & (uint64_t)1 << (id % 64))
				return "id hash: two nodes have the same id";
			seen[id / 64] |= (uint64_t)1 << (id % 64);
		}
	}
	if (count != h->count)
		return "id hash: fewer nodes than the count";
	return NULL;
}
