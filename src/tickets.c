/*
 * tickets.c: the session-ticket keys, made by the master and shared by
 * every front process, so that a session resumes on whichever front the
 * kernel hands the next connection to.
 *
 * A key encrypts new tickets for tls-ticket-lifetime, then only decrypts
 * for as long again (a ticket it made is then renewed under the new one),
 * then is gone: a stolen front's keys open at most two periods' sessions.
 */
#include <sys/random.h>
#include <string.h>

#include "lockerd.h"
#include "master.h"
#include "certs.h"

static struct msg_tls_tickets	keys;
static uint64_t			made_ms;

static void
key_make(struct tls_ticket_key *k)
{
	uint8_t	*p = (uint8_t *)k;
	size_t	 got = 0;

	while (got < sizeof(*k)) {
		ssize_t n = getrandom(p + got, sizeof(*k) - got, 0);

		if (n <= 0)
			fatal("getrandom");
		got += (size_t)n;
	}
}

void
tickets_init(void)
{
	memset(&keys, 0, sizeof(keys));
	key_make(&keys.key[0]);
	keys.n = 1;
	made_ms = now_ms();
}

void
tickets_send_front(struct child *f)
{
	if (f->pid > 0 && keys.n > 0)
		child_send(f, MSG_TLS_TICKETS, &keys, sizeof(keys), -1);
}

void
tickets_tick(const struct config *c)
{
	int i;

	if (keys.n == 0 || now_ms() - made_ms < (uint64_t)c->tls_ticket_lifetime * 1000)
		return;
	keys.key[1] = keys.key[0];
	key_make(&keys.key[0]);
	keys.n = 2;
	made_ms = now_ms();
	for (i = 0; i < M->nfronts; i++)
		tickets_send_front(&M->fronts[i]);
}
