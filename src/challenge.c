/*
 * challenge.c: front's answers to ACME HTTP-01 (RFC 8555 8.3).  The ACME
 * process hands its tokens to the master, which relays them to every
 * front (MSG_CHALLENGE); front keeps them in memory and answers
 * GET /.well-known/acme-challenge/TOKEN with the key authorization on
 * every listener and for every Host, before any routing.  Nothing is on
 * disk for a locker to touch, and a locker's own files under that path
 * (certbot's or lego's --webroot) are still served when no token matches.
 */
#include <stdio.h>
#include <string.h>

#include "lockerd.h"
#include "acme.h"
#include "front.h"

#define PREFIX		"/.well-known/acme-challenge/"

static struct msg_acme_token	tokens[ACME_TOKENS_MAX];

void
challenge_set(const struct msg_acme_token *t)
{
	struct msg_acme_token	*free_slot = NULL;
	int			 i;

	/* The master checked them; a front that trusts nobody checks again. */
	if (memchr(t->token, '\0', sizeof(t->token)) == NULL ||
	    memchr(t->keyauth, '\0', sizeof(t->keyauth)) == NULL || !acme_token_ok(t->token) ||
	    (t->set && !acme_keyauth_ok(t->keyauth)))
		return;
	for (i = 0; i < ACME_TOKENS_MAX; i++) {
		if (tokens[i].set && strcmp(tokens[i].token, t->token) == 0) {
			if (!t->set)
				memset(&tokens[i], 0, sizeof(tokens[i]));
			else
				tokens[i] = *t;
			return;
		}
		if (!tokens[i].set && free_slot == NULL)
			free_slot = &tokens[i];
	}
	if (t->set && free_slot != NULL)
		*free_slot = *t;
}

int
challenge_lookup(const char *path, const char **keyauth)
{
	int i;

	if (strncmp(path, PREFIX, sizeof(PREFIX) - 1) != 0)
		return 0;
	path += sizeof(PREFIX) - 1;
	for (i = 0; i < ACME_TOKENS_MAX; i++)
		if (tokens[i].set && strcmp(tokens[i].token, path) == 0) {
			*keyauth = tokens[i].keyauth;
			return 1;
		}
	return 0;
}

int
challenge_answer(struct conn *c)
{
	const char	*ka;
	size_t		 n;

	if ((c->req.method != HTTP_M_GET && c->req.method != HTTP_M_HEAD) ||
	    !challenge_lookup(c->path, &ka))
		return 0;
	n = strlen(ka);
	head_begin(c, 200);
	head_add(c, "Content-Type: text/plain\r\nContent-Length: %zu\r\n", n);
	head_end(c);
	if (c->req.method == HTTP_M_GET && c->outlen + n <= sizeof(c->out)) {
		memcpy(c->out + c->outlen, ka, n);
		c->outlen += n;
		c->body_bytes = (off_t)n;
	}
	conn_set_state(c, C_SEND, F.conf.send_timeout);
	return 1;
}
