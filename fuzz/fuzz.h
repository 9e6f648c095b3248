/* fuzz.h: what every fuzz target shares. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* A broken invariant is a crash libFuzzer keeps, with where and what. */
#define REQUIRE(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant %s broken\n",		\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

#endif
