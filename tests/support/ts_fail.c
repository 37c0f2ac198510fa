/* SPDX-License-Identifier: MIT */
#include "ts_fail.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void ts_fail_default(const char *file, int line, const char *msg)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, msg);
	abort();
}

static ts_fail_handler *ts_handler = ts_fail_default;

ts_fail_handler *ts_set_fail_handler(ts_fail_handler *h)
{
	ts_fail_handler *prev = ts_handler;

	ts_handler = h ? h : ts_fail_default;
	return prev;
}

void ts_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ts_handler(file, line, msg);
	/* A handler that returns would let the failed check go on. */
	abort();
}
