/*
 * fuzz_lmtp.c: libFuzzer target for lmtp.c, the LMTP state machine that
 * reads whatever a client of maild sends.
 *
 * The input is fed in pieces of the sizes its first bytes say (so a line
 * or a CRLF split across reads is tried), and each time a message
 * completes, every recipient is answered and the machine goes on.
 * Checked: every reply line starts with three digits and is short; the
 * message bytes passed on never exceed max_size; no more recipients than
 * max_rcpts are taken, each an address with an '@'; and nothing is read
 * past what was fed (ASan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp.h"

#define MAX_SIZE	4096
#define MAX_RCPTS	3

static uint64_t	data_bytes;

static void
on_reply(void *ctx, const char *line)
{
	(void)ctx;
	if (strlen(line) < 3 || strlen(line) > 600 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		abort();
}

static int
on_data(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	data_bytes += len;
	if (data_bytes > MAX_SIZE)
		abort();
	return 0;
}

static const char *
on_rcpt(void *ctx, const char *addr)
{
	(void)ctx;
	return addr[0] == 'x' ? "550 5.1.1 no" : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_ops	ops = { NULL, on_reply, on_rcpt, on_data };
	struct lmtp	l;
	size_t		off = 0, used, piece, chunk = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
	uint32_t	i;
	char		name[400], tag[400], dom[400];

	if (lmtp_init(&l, &ops, "mx.test", MAX_SIZE, MAX_RCPTS) == -1)
		return 0;
	data_bytes = 0;
	while (off < size && l.state != LMTP_S_CLOSED) {
		piece = size - off < chunk ? size - off : chunk;
		/* A piece of its own: ASan sees any read past it. */
		char *p = malloc(piece);

		if (p == NULL)
			break;
		memcpy(p, data + off, piece);
		if (lmtp_feed(&l, p, piece, &used) == LMTP_S_DELIVER) {
			if (l.nrcpt == 0 || l.nrcpt > MAX_RCPTS)
				abort();
			for (i = 0; i < l.nrcpt; i++) {
				if (strchr(l.rcpt[i].addr, '@') == NULL)
					abort();
				lmtp_split(l.rcpt[i].addr, name, sizeof(name), tag, sizeof(tag), dom,
				    sizeof(dom));
			}
			lmtp_refusal(&l);
			lmtp_delivered(&l);
			data_bytes = 0;
		}
		free(p);
		if (used > piece)
			abort();
		off += used;
		if (used == 0 && l.state != LMTP_S_DELIVER && l.state != LMTP_S_CLOSED)
			abort();	/* it must always take something */
	}
	lmtp_free(&l);
	return 0;
}
