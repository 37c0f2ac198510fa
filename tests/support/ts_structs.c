/* SPDX-License-Identifier: MIT */
#include "ts_structs.h"

const char *ms_rb_strerror(int err)
{
	switch (err) {
	case 0:
		return "valid";
	case MS_RB_EROOT_RED:
		return "root is red";
	case MS_RB_EPARENT:
		return "parent pointer disagrees with the child link";
	case MS_RB_EFLAGS:
		return "unused parent_color bit set";
	case MS_RB_ERED_RED:
		return "red node with a red child";
	case MS_RB_EBLACK_HEIGHT:
		return "paths with different black heights";
	case MS_RB_EORDER:
		return "in-order sequence not sorted";
	case MS_RB_ELEFTMOST:
		return "cached leftmost is not the first node";
	case MS_RB_EDEPTH:
		return "tree deeper than any valid tree (cycle?)";
	case MS_RB_EAUGMENT:
		return "augmented value wrong";
	case MS_RB_EKEY:
		return "node key invalid";
	default:
		return "unknown error";
	}
}

void ms_hash_get_stats(const struct ms_hash *h, struct ms_hash_stats *st)
{
	size_t i, n = ms_hash_buckets(h);

	st->buckets = n;
	st->count = h->count;
	st->used_buckets = 0;
	st->max_chain = 0;
	for (i = 0; i < n; i++) {
		const struct ms_hnode *node;
		size_t len = 0;

		for (node = h->buckets[i]; node; node = node->next)
			len++;
		if (len)
			st->used_buckets++;
		if (len > st->max_chain)
			st->max_chain = len;
	}
}
