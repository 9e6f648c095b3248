/*
 * errdoc.h: a .htaccess's ErrorDocument answered, in the locker's worker
 * (errdoc.c): a text as the body, a full URL as a 302, a local URL as an
 * internal redirect to that document (its own .htaccess, access and
 * rewrites; this locker's web_scripts only) sent with the error's status.
 */
#ifndef LOCKERD_ERRDOC_H
#define LOCKERD_ERRDOC_H

#include <sys/types.h>

#include "lockerd.h"
#include "htaccess.h"

/* What the worker lends errdoc.c to answer with (worker.c). */
struct errdoc_env {
	/* Queue an answer (fd: its descriptor, -1 for none). */
	void	(*answer)(int chan, struct wire_response *r, int fd);
	/* hr's fields and Header operations for an answer of status; -1 if
	 * they do not fit. */
	int	(*fields)(const struct ht_req *hr, int status);
	/* The .htaccess phases for hr->path, then serve it. */
	void	(*again)(int chan, const struct wire_request *q, const struct wire_view *v,
		    struct wire_response *r, struct ht_req *hr);
	/* The locker's error log. */
	void	(*note)(const char *text);
};

/* A new request: no ErrorDocument is being served. */
void	errdoc_reset(void);
/*
 * The status whose ErrorDocument is being served (a file or a script sent
 * now goes with it), or 0.
 */
int	errdoc_status(void);
/*
 * An answer about to go (its flags set): while an ErrorDocument is
 * served, a file or a script found goes with the error's status, anything
 * else (a slash redirect, an error not seen by errdoc_answer()) is the
 * first error's own page; a file or a script with an error status is
 * never for front's caches (WRESP_NOCACHE).
 */
void	errdoc_mark(struct wire_response *r);
/*
 * hr's Header operations for front (wire_hop_put()) into buf: their
 * length, or -1 if they do not fit in cap.
 */
ssize_t	errdoc_hops(const struct ht_req *hr, char *buf, size_t cap);
/*
 * An error of status for hr, from the request q, v: answered with the
 * ErrorDocument that holds for it (1), or not (0: lockerd's own page).
 * An error met while serving an ErrorDocument is answered with the first
 * error's status and a page that tells both (Apache's recursive error).
 */
int	errdoc_answer(const struct errdoc_env *e, int chan, const struct wire_request *q,
	    const struct wire_view *v, struct wire_response *r, struct ht_req *hr, int status);

#endif
