/*
 * fuzz_wire_script.c: libFuzzer target for wire_script_parse() in wire.c,
 * front's reading of how a worker resolved a FastCGI script.
 *
 * The input is the tail of a WIRE_FCGI answer, as a hostile worker (the
 * locker's own process) might send it, in a heap copy of exactly its size.
 * Checked on success: the strings lie inside the input, one after another,
 * fill it exactly, hold no NUL, and the web root is absolute and the script
 * relative without "..".  A broken invariant aborts.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"
#include "wire.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s[WSC_MAX];
	size_t		 l[WSC_MAX], total = 0;
	int		 has_index = -1, i;
	char		*buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (wire_script_parse(buf, size, s, l, &has_index) == 0) {
		const char *at = buf + sizeof(struct wire_script);

		REQUIRE(size >= sizeof(struct wire_script));
		REQUIRE(has_index == 0 || has_index == 1);
		for (i = 0; i < WSC_MAX; i++) {
			REQUIRE(s[i] == at);
			REQUIRE(l[i] < PATH_MAX);
			REQUIRE(memchr(s[i], '\0', l[i]) == NULL);
			at += l[i];
			total += l[i];
		}
		REQUIRE(at == buf + size);
		REQUIRE(sizeof(struct wire_script) + total == size);
		REQUIRE(l[WSC_DOCROOT] > 0 && s[WSC_DOCROOT][0] == '/');
		REQUIRE(l[WSC_REL] > 0 && s[WSC_REL][0] != '/');
		REQUIRE(!(l[WSC_REL] == 2 && memcmp(s[WSC_REL], "..", 2) == 0));
	}
	free(buf);
	return 0;
}
