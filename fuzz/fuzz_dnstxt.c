/*
 * fuzz_dnstxt.c: libFuzzer target for dnstxt.c, which reads the DNS answer
 * of a vhost proof (`locker vhost verify`): bytes the owner of the name
 * being proved controls.
 *
 * The input is the answer, a heap copy of exactly its size (a read past it
 * is an ASan report).  Checked: the answer is 1, 0 or -1, and the same
 * when asked again (nothing of one call is left for the next); a message
 * cut by one byte is read within its own bounds too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnstxt.h"

#define TOKEN	"lockerd-verify-0123456789abcdef"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*copy;
	int		 r;

	if (size > 65535)
		return 0;
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	r = dns_txt_answer_has(copy, (int)size, TOKEN);
	if (r != 1 && r != 0 && r != -1)
		abort();
	if (dns_txt_answer_has(copy, (int)size, TOKEN) != r)
		abort();
	free(copy);
	/* The same message, cut short in its own exact-size copy. */
	if (size > 0 && (copy = malloc(size - 1 ? size - 1 : 1)) != NULL) {
		memcpy(copy, data, size - 1);
		(void)dns_txt_answer_has(copy, (int)size - 1, TOKEN);
		free(copy);
	}
	return 0;
}
