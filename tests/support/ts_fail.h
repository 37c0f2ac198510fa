/* SPDX-License-Identifier: MIT */
/*
 * How the test-support code reports a failed check, without depending on
 * a test framework: ts_fail() formats the message and hands it to the
 * program's handler.  The unit tests install one that fails the running
 * Check test (ts_check.c); by default the message goes to stderr and the
 * process aborts, which the fuzzers and the stress program want.
 */
#ifndef TS_FAIL_H
#define TS_FAIL_H

typedef void ts_fail_handler(const char *file, int line, const char *msg);

/* Installs @h (NULL: the default); returns the previous handler. */
ts_fail_handler *ts_set_fail_handler(ts_fail_handler *h);

__attribute__((format(printf, 3, 4))) void ts_fail(const char *file, int line, const char *fmt,
						   ...);

/*
 * Checks that report only failures: Check's ck_assert_* records a message
 * even when it passes, which makes brute-force loops slow.
 */
#define TS_CHECK(cond, ...)                                       \
	do {                                                      \
		if (!(cond))                                      \
			ts_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)
#define TS_CMP(a, op, b)                                                                        \
	do {                                                                                    \
		unsigned long long a_ = (unsigned long long)(a);                                \
		unsigned long long b_ = (unsigned long long)(b);                                \
		if (!(a_ op b_))                                                                \
			ts_fail(__FILE__, __LINE__, "%s %s %s failed: %#llx vs %#llx", #a, #op, \
				#b, a_, b_);                                                    \
	} while (0)
#define TS_PTR_CMP(a, op, b)                                                                      \
	do {                                                                                      \
		const void *a_ = (a), *b_ = (b);                                                  \
		if (!(a_ op b_))                                                                  \
			ts_fail(__FILE__, __LINE__, "%s %s %s failed: %p vs %p", #a, #op, #b, a_, \
				b_);                                                              \
	} while (0)

#endif /* TS_FAIL_H */
