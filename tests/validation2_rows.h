/* SPDX-License-Identifier: MIT */
/*
 * The validation table of the KVM 6.x surface (API contract, Extension 1):
 * requests through memslots_set_region2() (V2) or the v1 call (V1), each
 * against a fixed state, with the result the contract dictates.  Every
 * rule is here on its own, and in KVM's order where two apply.
 *
 * The fixed state (page_shift 12, max_slots 512, hva_limit LIM; slots
 * whose flags the row's config does not allow are left out):
 *   id 1: gfn [0x100, 0x110), hva 0x10000000, flags 0
 *   id 2: gfn [0x200, 0x210), hva 0x20000000, READONLY
 *   id 3: gfn [0x300, 0x310), hva 0x30000000, LOG_DIRTY_PAGES
 *   id 4: gfn [0x400, 0x410), hva 0x48000000, GUEST_MEMFD, fd 7,
 *         offset 0x10000: binds bytes [0x10000, 0x20000) of fd 7
 *   id 5: gfn [0x500, 0x504), hva 0x58000000, GUEST_MEMFD, fd 8,
 *         offset 0: binds bytes [0, 0x4000) of fd 8
 * Id 10 is free; "new" requests use it.  The state is made in the
 * config's address space (as_id); rows name theirs in bits 16-31 of slot,
 * as requests do.
 *
 * Included by tests/test_validation.c, after validation_shorthands.h (G(),
 * P, LIM, TOP, NEW_HVA, the flag shorthands and the change names).
 */
#ifndef MS_VALIDATION2_ROWS_H
#define MS_VALIDATION2_ROWS_H

enum api {
	V2, /* memslots_set_region2() */
	V1, /* memslots_set_region(): the first five fields */
};

enum cfg2 {
	CFG_ALL,      /* allowed_flags 0 (all), as_id 0, hva_limit LIM */
	CFG_NO_GMEM,  /* allowed_flags LOG | READONLY */
	CFG_NO_RO,    /* allowed_flags LOG | GUEST_MEMFD */
	CFG_ONLY_LOG, /* allowed_flags LOG */
	CFG_AS1,      /* as_id 1 */
};

struct row2 {
	const char *name;
	enum api api;
	enum cfg2 cfg;
	uint32_t slot; /* bits 16-31: the address space, as in a request */
	uint32_t flags;
	uint64_t gpa, size, hva;
	uint64_t offset; /* guest_memfd_offset */
	uint32_t fd;	 /* guest_memfd */
	bool junk;	 /* nonzero pads (which are ignored) */
	int ret;
	int change; /* when ret == 0 */
};

/* A new guest_memfd slot: id 10 at gfn 0x1000, 16 pages. */
#define NEWG(off, fd) 10, GMEM, G(0x1000), G(0x10), NEW_HVA, (off), (fd)

static const struct row2 rows2[] = {
	/* Rule 1: the flags the config allows; GUEST_MEMFD alone. */
	{"gmem_create_ok", V2, CFG_ALL, NEWG(0, 9), false, 0, CREATE},
	{"gmem_create_junk_pads_ok", V2, CFG_ALL, NEWG(0, 9), true, 0, CREATE},
	{"gmem_create_v1_refused", V1, CFG_ALL, NEWG(0, 9), false, -EINVAL, NO_CHG},
	{"gmem_log", V2, CFG_ALL, 10, GMEM | LOG, G(0x1000), G(1), NEW_HVA, 0, 9, false, -EINVAL,
	 NO_CHG},
	{"gmem_readonly", V2, CFG_ALL, 10, GMEM | RO, G(0x1000), G(1), NEW_HVA, 0, 9, false,
	 -EINVAL, NO_CHG},
	{"gmem_log_readonly", V2, CFG_ALL, 10, GMEM | LOG | RO, G(0x1000), G(1), NEW_HVA, 0, 9,
	 false, -EINVAL, NO_CHG},
	{"gmem_log_delete_existing", V2, CFG_ALL, 4, GMEM | LOG, 0, 0, 0, 0, 7, false, -EINVAL,
	 NO_CHG},
	{"gmem_v1_delete_existing", V1, CFG_ALL, 4, GMEM, 0, 0, 0, 0, 0, false, -EINVAL, NO_CHG},
	{"v2_bit3", V2, CFG_ALL, 10, 1u << 3, G(0x1000), G(1), NEW_HVA, 0, 0, false, -EINVAL,
	 NO_CHG},
	{"v2_bit31_gmem", V2, CFG_ALL, 10, GMEM | (1u << 31), G(0x1000), G(1), NEW_HVA, 0, 9, false,
	 -EINVAL, NO_CHG},
	{"v2_invalid_by_caller", V2, CFG_ALL, 10, MEMSLOT_INVALID, G(0x1000), G(1), NEW_HVA, 0, 0,
	 false, -EINVAL, NO_CHG},
	{"v2_log_ro_ok", V2, CFG_ALL, 10, LOG | RO, G(0x1000), G(1), NEW_HVA, 0, 0, false, 0,
	 CREATE},
	{"no_gmem_cfg_gmem_create", V2, CFG_NO_GMEM, NEWG(0, 9), false, -EINVAL, NO_CHG},
	{"no_gmem_cfg_gmem_delete_flag", V2, CFG_NO_GMEM, 1, GMEM, 0, 0, 0, 0, 0, false, -EINVAL,
	 NO_CHG},
	{"no_gmem_cfg_ro_ok", V2, CFG_NO_GMEM, 10, RO, G(0x1000), G(1), NEW_HVA, 0, 0, false, 0,
	 CREATE},
	{"no_ro_cfg_ro_create", V2, CFG_NO_RO, 10, RO, G(0x1000), G(1), NEW_HVA, 0, 0, false,
	 -EINVAL, NO_CHG},
	{"no_ro_cfg_ro_v1", V1, CFG_NO_RO, 10, RO, G(0x1000), G(1), NEW_HVA, 0, 0, false, -EINVAL,
	 NO_CHG},
	{"no_ro_cfg_gmem_ok", V2, CFG_NO_RO, NEWG(0, 9), false, 0, CREATE},
	{"only_log_cfg_log_ok", V2, CFG_ONLY_LOG, 10, LOG, G(0x1000), G(1), NEW_HVA, 0, 0, false, 0,
	 CREATE},
	{"only_log_cfg_flags_only_ok", V1, CFG_ONLY_LOG, 3, 0, G(0x300), G(0x10), 0x30000000, 0, 0,
	 false, 0, FLAGS},
	{"only_log_cfg_gmem", V2, CFG_ONLY_LOG, NEWG(0, 9), false, -EINVAL, NO_CHG},

	/* Rule 2 (added): the guest_memfd offset, only with GUEST_MEMFD. */
	{"gmem_offset_misaligned_1", V2, CFG_ALL, NEWG(1, 9), false, -EINVAL, NO_CHG},
	{"gmem_offset_misaligned_half", V2, CFG_ALL, NEWG(G(3) + P / 2, 9), false, -EINVAL,
	 NO_CHG},
	{"gmem_offset_wrap", V2, CFG_ALL, NEWG(TOP - G(8), 9), false, -EINVAL, NO_CHG},
	{"gmem_offset_end_is_2_64", V2, CFG_ALL, NEWG(TOP - G(0x10), 9), false, -EINVAL, NO_CHG},
	{"gmem_offset_near_top_ok", V2, CFG_ALL, NEWG(TOP - G(0x11), 9), false, 0, CREATE},
	{"gmem_offset_misaligned_delete", V2, CFG_ALL, 4, GMEM, 0, 0, 0, 1, 7, false, -EINVAL,
	 NO_CHG},
	{"plain_offset_misaligned_ignored", V2, CFG_ALL, 10, 0, G(0x1000), G(1), NEW_HVA, 1, 0,
	 false, 0, CREATE},
	{"plain_offset_wrap_ignored", V2, CFG_ALL, 10, LOG, G(0x1000), G(2), NEW_HVA, TOP - P,
	 0xffffffffu, true, 0, CREATE},
	{"plain_existing_offset_ignored", V2, CFG_ALL, 1, LOG, G(0x100), G(0x10), 0x10000000, 3,
	 7, false, 0, FLAGS},
	{"gmem_fd_0_ok", V2, CFG_ALL, NEWG(0, 0), false, 0, CREATE},
	{"gmem_fd_max_ok", V2, CFG_ALL, NEWG(G(5), 0xffffffffu), false, 0, CREATE},

	/* Rule 2 (added): the address space is the config's as_id. */
	{"as1_cfg_create_ok", V2, CFG_AS1, (1u << 16) | 10, GMEM, G(0x1000), G(0x10), NEW_HVA, 0, 9,
	 false, 0, CREATE},
	{"as1_cfg_v1_create_ok", V1, CFG_AS1, (1u << 16) | 10, LOG, G(0x1000), G(1), NEW_HVA, 0, 0,
	 false, 0, CREATE},
	{"as1_cfg_delete_ok", V2, CFG_AS1, (1u << 16) | 4, 0, 0, 0, 0, 0, 0, false, 0, DELETE},
	{"as1_cfg_bind_same_range", V2, CFG_AS1, (1u << 16) | 10, GMEM, G(0x1000), G(0x10),
	 NEW_HVA, G(0x10), 7, false, -EINVAL, NO_CHG},
	{"as1_cfg_as0_request", V2, CFG_AS1, 10, 0, G(0x1000), G(1), NEW_HVA, 0, 0, false, -EINVAL,
	 NO_CHG},
	{"as1_cfg_as0_v1_delete", V1, CFG_AS1, 1, 0, 0, 0, 0, 0, 0, false, -EINVAL, NO_CHG},
	{"as1_cfg_as2_request", V2, CFG_AS1, (2u << 16) | 10, 0, G(0x1000), G(1), NEW_HVA, 0, 0,
	 false, -EINVAL, NO_CHG},
	{"as1_cfg_as_ffff_request", V2, CFG_AS1, (0xffffu << 16) | 1, 0, 0, 0, 0, 0, 0, false,
	 -EINVAL, NO_CHG},
	{"as0_cfg_as1_gmem", V2, CFG_ALL, (1u << 16) | 10, GMEM, G(0x1000), G(1), NEW_HVA, 0, 9,
	 false, -EINVAL, NO_CHG},
	{"as0_cfg_as1_delete_gmem", V2, CFG_ALL, (1u << 16) | 4, 0, 0, 0, 0, 0, 0, false, -EINVAL,
	 NO_CHG},

	/* Rule 4: a guest_memfd slot may be deleted, with or without the flag. */
	{"gmem_delete_with_flag", V2, CFG_ALL, 4, GMEM, 0, 0, 0, 0, 7, false, 0, DELETE},
	{"gmem_delete_without_flag", V2, CFG_ALL, 4, 0, 0, 0, 0, 0, 0, false, 0, DELETE},
	{"gmem_delete_v1", V1, CFG_ALL, 5, 0, 0, 0, 0, 0, 0, false, 0, DELETE},
	{"gmem_delete_other_offset_fd", V2, CFG_ALL, 4, GMEM, 0, 0, 0, G(0x99), 99, true, 0,
	 DELETE},
	{"gmem_delete_missing", V2, CFG_ALL, 10, GMEM, 0, 0, 0, 0, 7, false, -EINVAL, NO_CHG},

	/* Rule 6 (added, first): guest_memfd slots are immutable. */
	{"gmem_existing_same", V2, CFG_ALL, 4, GMEM, G(0x400), G(0x10), GMEM_HVA, G(0x10), 7, false,
	 -EINVAL, NO_CHG},
	{"gmem_existing_move", V2, CFG_ALL, 4, GMEM, G(0x1000), G(0x10), GMEM_HVA, G(0x10), 7,
	 false, -EINVAL, NO_CHG},
	{"gmem_existing_drop_flag", V2, CFG_ALL, 4, 0, G(0x400), G(0x10), GMEM_HVA, 0, 0, false,
	 -EINVAL, NO_CHG},
	{"gmem_existing_drop_flag_v1", V1, CFG_ALL, 4, 0, G(0x400), G(0x10), GMEM_HVA, 0, 0, false,
	 -EINVAL, NO_CHG},
	{"gmem_existing_drop_flag_move", V2, CFG_ALL, 4, 0, G(0x1000), G(0x10), GMEM_HVA, 0, 0,
	 false, -EINVAL, NO_CHG},
	{"gmem_existing_to_log", V2, CFG_ALL, 4, LOG, G(0x400), G(0x10), GMEM_HVA, 0, 0, false,
	 -EINVAL, NO_CHG},
	{"gmem_existing_other_range", V2, CFG_ALL, 4, GMEM, G(0x400), G(0x10), GMEM_HVA, G(0x20), 7,
	 false, -EINVAL, NO_CHG},
	{"gmem_existing_other_fd", V2, CFG_ALL, 4, GMEM, G(0x400), G(0x10), GMEM_HVA, G(0x10), 9,
	 false, -EINVAL, NO_CHG},
	{"plain_existing_add_gmem", V2, CFG_ALL, 1, GMEM, G(0x100), G(0x10), 0x10000000, 0, 9,
	 false, -EINVAL, NO_CHG},
	{"plain_existing_add_gmem_move", V2, CFG_ALL, 1, GMEM, G(0x1000), G(0x10), 0x10000000, 0, 9,
	 false, -EINVAL, NO_CHG},
	{"ro_existing_add_gmem", V2, CFG_ALL, 2, GMEM, G(0x200), G(0x10), 0x20000000, 0, 9, false,
	 -EINVAL, NO_CHG},
	{"plain_existing_v2_flags_only_ok", V2, CFG_ALL, 1, LOG, G(0x100), G(0x10), 0x10000000, 0,
	 0, false, 0, FLAGS},
	{"plain_existing_v2_move_ok", V2, CFG_ALL, 3, 0, G(0x1000), G(0x10), 0x30000000, 0, 0, true,
	 0, MOVE},
	{"plain_existing_v2_noop", V2, CFG_ALL, 2, RO, G(0x200), G(0x10), 0x20000000, 0, 0, true, 0,
	 NO_CHG},

	/* Rule 7 (added): a guest_memfd range is bound once. */
	{"bind_same_range", V2, CFG_ALL, NEWG(G(0x10), 7), false, -EINVAL, NO_CHG},
	{"bind_last_page_of_other", V2, CFG_ALL, 10, GMEM, G(0x1000), G(1), NEW_HVA, G(0x1f), 7,
	 false, -EINVAL, NO_CHG},
	{"bind_first_page_of_other", V2, CFG_ALL, 10, GMEM, G(0x1000), G(0x10), NEW_HVA, G(1), 7,
	 false, -EINVAL, NO_CHG},
	{"bind_covers_other", V2, CFG_ALL, 10, GMEM, G(0x1000), G(0x100), NEW_HVA, 0, 7, false,
	 -EINVAL, NO_CHG},
	{"bind_inside_other", V2, CFG_ALL, 10, GMEM, G(0x1000), G(2), NEW_HVA, G(0x14), 7, false,
	 -EINVAL, NO_CHG},
	{"bind_touch_below_ok", V2, CFG_ALL, NEWG(0, 7), false, 0, CREATE},
	{"bind_touch_above_ok", V2, CFG_ALL, NEWG(G(0x20), 7), false, 0, CREATE},
	{"bind_other_fd_same_range_ok", V2, CFG_ALL, NEWG(G(0x10), 9), false, 0, CREATE},
	{"bind_fd8_overlap", V2, CFG_ALL, 10, GMEM, G(0x1000), G(1), NEW_HVA, G(3), 8, false,
	 -EINVAL, NO_CHG},
	{"bind_fd8_touch_ok", V2, CFG_ALL, NEWG(G(4), 8), false, 0, CREATE},
	{"bind_gfn_elsewhere_hva_shared_ok", V2, CFG_ALL, 10, GMEM, G(0x1000), G(0x10), GMEM_HVA,
	 G(0x30), 7, false, 0, CREATE},

	/* Rule order: a request breaking two rules gets the earlier rule's error. */
	{"order_gmem_log_before_offset", V2, CFG_ALL, 10, GMEM | LOG, G(0x1000), G(1), NEW_HVA, 1,
	 9, false, -EINVAL, NO_CHG},
	{"order_offset_before_gfn_overlap", V2, CFG_ALL, 10, GMEM, G(0x100), G(0x10), NEW_HVA, 1, 9,
	 false, -EINVAL, NO_CHG},
	{"order_as_before_gfn_overlap", V2, CFG_ALL, (1u << 16) | 10, GMEM, G(0x100), G(0x10),
	 NEW_HVA, 0, 9, false, -EINVAL, NO_CHG},
	{"order_cfg_flags_before_gfn_overlap", V2, CFG_NO_GMEM, 10, GMEM, G(0x100), G(0x10),
	 NEW_HVA, 0, 9, false, -EINVAL, NO_CHG},
	{"order_gfn_overlap_before_bind", V2, CFG_ALL, 10, GMEM, G(0x100), G(0x10), NEW_HVA,
	 G(0x10), 7, false, -EEXIST, NO_CHG},
	{"order_gfn_overlap_gmem_slot_before_bind", V2, CFG_ALL, 10, GMEM, G(0x408), G(0x10),
	 NEW_HVA, G(0x10), 7, false, -EEXIST, NO_CHG},
	{"order_immutable_before_move_overlap", V2, CFG_ALL, 4, GMEM, G(0x100), G(0x10), GMEM_HVA,
	 G(0x10), 7, false, -EINVAL, NO_CHG},
	{"order_toggle_before_move_overlap", V2, CFG_ALL, 4, 0, G(0x100), G(0x10), GMEM_HVA, 0, 0,
	 false, -EINVAL, NO_CHG},
	{"order_add_gmem_before_move_overlap", V2, CFG_ALL, 1, GMEM, G(0x200), G(0x10), 0x10000000,
	 0, 9, false, -EINVAL, NO_CHG},
	/* A delete's size is 0: offset + 0 cannot wrap, but alignment still counts. */
	{"gmem_delete_offset_near_top_ok", V2, CFG_ALL, 4, GMEM, 0, 0, 0, TOP - P, 7, false, 0,
	 DELETE},
};

#undef NEWG

#endif /* MS_VALIDATION2_ROWS_H */
