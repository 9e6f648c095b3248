/*
 * health.c: front's side of draining (drain.h): the health check a load
 * balancer asks, answered here from front's copy of the node's state, and
 * what a draining node does to the connections it still serves.
 *
 * The answer never involves the master or a worker: a check must say
 * "draining" at once, and "up" only if front itself serves.
 */
#include <string.h>

#include "lockerd.h"
#include "http.h"
#include "front.h"
#include "h2.h"
#include "drain.h"

/*
 * While draining, the connections kept open would keep their clients on
 * this node after the balancer took it out: HTTP/1.1 answers close their
 * connection (the next request opens one the balancer sends elsewhere),
 * and HTTP/2 sessions are told GOAWAY (streams begun still finish).
 */
void
health_drain_msg(uint32_t state)
{
	struct conn *c;

	F.drain = state;
	if (state == 0)
		return;
	for (c = F.conns; c != NULL; c = c->next)
		if (c->state == C_H2 && c->h2 != NULL)
			h2_stop(c);
}

int
health_request(struct conn *c)
{
	static const char	 up[] = "up\n", draining[] = "draining\n";
	const char		*body = F.drain ? draining : up;
	size_t			 n = strlen(body);

	if (F.drain)
		c->keep_alive = 0;
	if (strcmp(c->path, HEALTH_PATH) != 0)
		return 0;
	if (c->req.method != HTTP_M_GET && c->req.method != HTTP_M_HEAD) {
		send_error(c, 405, 1);
		return 1;
	}
	head_begin(c, F.drain ? 503 : 200);
	c->own_page = 1;
	head_add(c, "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n", n);
	head_end(c);
	if (c->req.method == HTTP_M_GET && c->outlen + n <= sizeof(c->out)) {
		memcpy(c->out + c->outlen, body, n);
		c->outlen += n;
		c->body_bytes = (off_t)n;
	}
	conn_set_state(c, C_SEND, F.conf.send_timeout);
	return 1;
}
