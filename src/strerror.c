/* SPDX-License-Identifier: MIT */
/* memslots_strerror(): what each return code means for this library. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <memslots/memslots.h>

MEMSLOTS_API const char *memslots_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument: bad flags, alignment, range, id, or change to an "
		       "existing slot";
	case -EEXIST:
		return "guest-physical range overlaps another memslot";
	case -ENOMEM:
		return "out of memory";
	case -EDEADLK:
		return "writer call from inside a hook or a read-side section would deadlock";
	case -ENOSPC:
		/* memslots_lowest_free_id() and memslots_create_region*() */
		return "no free slot id left in the range asked for (or no space left)";
	default:
		break;
	}
	/*
	 * A prepare hook may return any errno.  strerrordesc_np() returns a
	 * static string and, unlike strerror(), neither allocates nor shares
	 * a buffer between threads.
	 */
	if (err < 0 && err != INT_MIN) {
		const char *desc = strerrordesc_np(-err);

		if (desc)
			return desc;
	}
	return "unknown error (not a negative errno)";
}

MEMSLOTS_API const char *memslots_version_string(void)
{
	return MEMSLOTS_VERSION_STRING;
}
