/* unit.h: the smallest test harness that says which check failed and where. */
#ifndef LOCKERD_UNIT_H
#define LOCKERD_UNIT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond) do {						\
	unit_checks++;							\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n",		\
		    __FILE__, __LINE__, #cond);				\
		unit_failures++;					\
	}								\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	unit_checks++;							\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",	\
		    __FILE__, __LINE__, #a, _a, _b);			\
		unit_failures++;					\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	unit_checks++;							\
	if (_a == NULL || strcmp(_a, _b) != 0) {			\
		fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", \
		    __FILE__, __LINE__, #a, _a ? _a : "(null)", _b);	\
		unit_failures++;					\
	}								\
} while (0)

#define UNIT_DONE() do {						\
	printf("%d checks, %d failed\n", unit_checks, unit_failures);	\
	return unit_failures ? 1 : 0;					\
} while (0)
#endif
