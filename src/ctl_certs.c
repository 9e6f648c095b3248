/*
 * ctl_certs.c: `locker cert list` and `locker cert status HOST`: each
 * certificate's state as the ACME process last told the master
 * (acme_master.c).  root sees every one; anyone else the service's own
 * names and the vhosts of the lockers they are an admin of, so a
 * locker's admins cannot learn which names another locker serves.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <time.h>

#include "ctl.h"
#include "route.h"
#include "acme.h"
#include "certs.h"

struct cert_walk {
	struct ctl_client	*c;
	const char		*host;		/* status: the one asked for */
	int			 sent;
};

static int
cert_cb(const struct acme_name *n, const struct msg_acme_status *s, void *arg)
{
	struct cert_walk	*w = arg;
	struct ctl_cert		 cc;

	if (w->host != NULL && strcmp(w->host, n->host) != 0)
		return 0;
	if (n->locker[0] != '\0' && !caller_may(w->c, n->locker))
		return 0;
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.host, sizeof(cc.host), "%s", n->host);
	snprintf(cc.locker, sizeof(cc.locker), "%s", n->locker);
	snprintf(cc.source, sizeof(cc.source), "acme");
	snprintf(cc.state, sizeof(cc.state), "%s", acme_state_name(s->state));
	cc.renew_failed = s->renew_failed;
	cc.not_after = s->not_after;
	cc.next_renewal = s->next_renewal;
	snprintf(cc.issuer, sizeof(cc.issuer), "%s", s->issuer);
	snprintf(cc.error, sizeof(cc.error), "%s", s->error);
	w->sent++;
	return reply(w->c, MSG_CTL_CERT, &cc, sizeof(cc)) == -1 ? -1 : 0;
}

/* A certificate of the configuration's (certs.c): root's business alone,
 * as the configuration is; what it serves is what the file says. */
static int
file_cb(const struct cert_info *ci, void *arg)
{
	struct cert_walk	*w = arg;
	struct ctl_cert		 cc;

	if (ci->from_dir || w->c->uid != 0 || (w->host != NULL && strcmp(w->host, ci->host) != 0))
		return 0;
	memset(&cc, 0, sizeof(cc));
	snprintf(cc.host, sizeof(cc.host), "%s", ci->host);
	snprintf(cc.source, sizeof(cc.source), "file");
	snprintf(cc.state, sizeof(cc.state), "%s", ci->not_after < time(NULL) ? "expired" :
	    "valid");
	cc.not_after = ci->not_after;
	snprintf(cc.issuer, sizeof(cc.issuer), "%s", ci->issuer);
	w->sent++;
	return reply(w->c, MSG_CTL_CERT, &cc, sizeof(cc)) == -1 ? -1 : 0;
}

void
do_cert(struct ctl_client *c)
{
	struct cert_walk w = { .c = c };
	char		 host[HOSTNAME_MAX + 1];

	if (c->req.verb == CTL_CERT_STATUS) {
		/* "*.DOMAIN": the wildcard's own certificate (DNS-01). */
		const char	*name = c->req.host;
		size_t		 wild = strncmp(name, "*.", 2) == 0 ? 2 : 0;

		memcpy(host, "*.", wild);
		if (route_canon_host(name + wild, strnlen(name + wild, sizeof(c->req.host) - wild),
		    host + wild, sizeof(host) - wild) == -1) {
			done(c, 2, "\"%s\" is not a host name", c->req.host);
			return;
		}
		w.host = host;
	}
	if (acme_status_foreach(cert_cb, &w) == 0)
		certs_foreach(file_cb, &w);
	if (w.host != NULL && w.sent == 0) {
		/* The same answer for a name unknown and one not the caller's. */
		struct ctl_cert cc;

		memset(&cc, 0, sizeof(cc));
		snprintf(cc.host, sizeof(cc.host), "%s", w.host);
		snprintf(cc.state, sizeof(cc.state), "none");
		snprintf(cc.error, sizeof(cc.error), "no certificate for this name that you may see");
		reply(c, MSG_CTL_CERT, &cc, sizeof(cc));
	}
	done(c, 0, NULL);
}

/* ------------------------------------------------------------ status */

struct warn_walk {
	struct ctl_client	*c;
	const char		*locker;	/* NULL: every one the caller may see */
};

static int
warn_cb(const struct acme_name *n, const struct msg_acme_status *s, void *arg)
{
	struct warn_walk	*w = arg;
	char			 line[600], when[32];
	time_t			 t = (time_t)s->not_after;
	struct tm		 tm;

	if (!s->renew_failed && s->state != ACME_ST_EXPIRED)
		return 0;
	if (w->locker != NULL ? strcmp(n->locker, w->locker) != 0 :
	    n->locker[0] != '\0' && !caller_may(w->c, n->locker))
		return 0;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	snprintf(line, sizeof(line), "warning: the certificate of %s %s %s and could not be "
	    "renewed: %s", n->host, t > time(NULL) ? "expires" : "expired", when,
	    s->error[0] ? s->error : "(no error given)");
	text(w->c, line);
	return 0;
}

void
cert_warnings(struct ctl_client *c, const char *locker)
{
	struct warn_walk w = { .c = c, .locker = locker };

	acme_status_foreach(warn_cb, &w);
}
