/* SPDX-License-Identifier: MIT */
/* What only the tests ask of the library's structures. */
#ifndef TS_STRUCTS_H
#define TS_STRUCTS_H

#include "rbtree.h"

/* A static description of a red-black validator result (MS_RB_E*). */
const char *ms_rb_strerror(int err);

#endif /* TS_STRUCTS_H */
