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
