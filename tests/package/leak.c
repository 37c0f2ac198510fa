/* SPDX-License-Identifier: MIT */
/*
 * Leaks one block on purpose (unless given "--no-leak"), so that a test can
 * check that the project's valgrind options turn a definite leak into a
 * failing exit status.
 */
#include <stdlib.h>
#include <string.h>

/* volatile: the compiler may not drop the allocation or keep the pointer */
static void *volatile sink;

static __attribute__((noinline)) void leak(void)
{
	char *p = malloc(100);

	if (p)
		memset(p, 0x5a, 100);
	sink = p;
	sink = NULL; /* the only pointer is gone: "definitely lost" */
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--no-leak")) {
		free(malloc(100));
		return 0;
	}
	leak();
	return 0;
}
