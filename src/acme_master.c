/*
 * acme_master.c: the master's side of ACME.  What the ACME process may
 * ask a CA for is decided here, from the configuration and the directory
 * alone: the service's names, and every vhost the directory holds, each
 * new one within its locker's acme-names-per-week (counted in the
 * directory).  There is no on-demand path that bypasses this: a name the
 * directory does not hold is never sent, so acme can never order it.
 *
 * It also relays acme's HTTP-01 tokens to every front (and to a front
 * that starts later), and keeps each host's last state for `locker cert`
 * and `locker status`.  Everything acme sends is checked here as coming
 * from a process that may have been subverted by a hostile CA: strings
 * bounded and NUL-terminated, tokens base64url, statuses only for names
 * this master sent.
 *
 * Several machines: only the node holding the directory's `acme` lease
 * (lease.c; a minute, renewed every 20 s) has its ACME client order; the
 * others' is told to watch (ACME_NAMES_WATCH): it orders nothing and
 * reads each name's state from tls-dir, on the shared storage, where the
 * holder writes, and their registry reads the new files from there
 * (certs_rescan_tick()).  A holder that dies mid-order leaves the order to
 * the next holder, which looks at tls-dir before ordering what is due.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "certs.h"
#include "directory.h"
#include "acme.h"
#include "lease.h"

#define WEEK	(7 * 86400)
#define ACME_LEASE_TTL	60	/* seconds; renewed every third */

static struct msg_acme_token	 tokens[ACME_TOKENS_MAX];
static struct msg_acme_alpn	 alpns[ACME_ALPN_MAX];	/* live TLS-ALPN-01 challenges */
static struct acme_name		*names;		/* the list last sent */
static size_t			 nnames;
static struct msg_acme_status	*statuses;	/* [nnames], by the index of names */
static int			 sent_watch = -1;	/* the flag of the last list sent */

/* ------------------------------------------------------------ names */

struct collect {
	struct acme_name	*v;
	size_t			 n;
};

static void
collect_one(struct collect *c, int kind, const char *host, const char *locker)
{
	struct acme_name	*a;
	size_t			 i;

	if (host[0] == '\0')
		return;
	if (c->n == ACME_NAMES_MAX) {
		static uint64_t warned;

		if (now_ms() - warned > 3600 * 1000 || warned == 0) {
			warned = now_ms();
			log_warnx("acme: more than %d names; the rest wait", ACME_NAMES_MAX);
		}
		return;
	}
	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].host, host) == 0)
			return;
	a = &c->v[c->n++];
	memset(a, 0, sizeof(*a));
	a->kind = (uint8_t)kind;
	snprintf(a->host, sizeof(a->host), "%s", host);
	snprintf(a->locker, sizeof(a->locker), "%s", locker);
}

static int
collect_vhost(const struct vhost_rec *v, void *arg)
{
	collect_one(arg, ACME_VHOST, v->host, v->locker);
	return 0;
}

/* A vhost name new to its locker costs one of acme-names-per-week. */
static void
budget(struct acme_name *a, int64_t now)
{
	struct locker_rec	 lr;
	uint64_t		 per_week;
	int64_t			 used;

	if (dir_acme_name_counted(M->dir, a->host, a->locker) == 1)
		return;
	if (dir_locker_get(M->dir, a->locker, &lr) != 1) {
		a->over_budget = 1;
		return;
	}
	per_week = locker_conf(lr.name, lr.uid)->acme_names_per_week;
	used = dir_acme_names_since(M->dir, a->locker, now - WEEK);
	if (used < 0 || (uint64_t)used >= per_week) {
		a->over_budget = 1;
		return;
	}
	if (dir_acme_name_count(M->dir, a->host, a->locker, now) == -1)
		log_warnx("acme: cannot count %s for locker %s", a->host, a->locker);
}

/* Statuses move with their names; a new name starts "pending". */
static void
statuses_follow(struct acme_name *v, size_t n)
{
	struct msg_acme_status	*s = calloc(n ? n : 1, sizeof(*s));
	size_t			 i, j;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++) {
		snprintf(s[i].host, sizeof(s[i].host), "%s", v[i].host);
		s[i].state = v[i].over_budget ? ACME_ST_RATE_LIMITED : ACME_ST_PENDING;
		for (j = 0; j < nnames; j++)
			if (strcmp(names[j].host, v[i].host) == 0)
				s[i] = statuses[j];
		if (v[i].over_budget && s[i].state != ACME_ST_ISSUED) {
			s[i].state = ACME_ST_RATE_LIMITED;
			snprintf(s[i].error, sizeof(s[i].error), "locker %s has had "
			    "acme-names-per-week new names issued this week", v[i].locker);
		}
	}
	free(statuses);
	free(names);
	statuses = s;
	names = v;
	nnames = n;
}

static void
names_send(void)
{
	struct msg_acme_names	*m;
	size_t			 off = 0, k;
	int			 watch = !lease_mine("acme");

	m = malloc(sizeof(*m) + ACME_NAMES_BATCH * sizeof(struct acme_name));
	if (m == NULL)
		return;
	sent_watch = watch;
	do {
		k = nnames - off > ACME_NAMES_BATCH ? ACME_NAMES_BATCH : nnames - off;
		m->n = (uint32_t)k;
		m->flags = off + k == nnames ? ACME_NAMES_LAST | (watch ? ACME_NAMES_WATCH : 0) : 0;
		memcpy(m->names, names + off, k * sizeof(struct acme_name));
		if (child_send(&M->acme, MSG_ACME_NAMES, m, sizeof(*m) + k *
		    sizeof(struct acme_name), -1) == -1)
			break;
		off += k;
	} while (off < nnames);
	free(m);
}

void
acme_names_push(void)
{
	struct collect	 c;
	int64_t		 now = time(NULL);
	size_t		 i;
	int		 h;
	char		 wild[HOSTNAME_MAX + 1];

	if (M->conf.acme_ca[0] == '\0')
		return;
	if ((c.v = calloc(ACME_NAMES_MAX, sizeof(*c.v))) == NULL)
		return;
	c.n = 0;
	collect_one(&c, ACME_SERVICE, M->conf.domain, "");
	for (h = 0; h < M->conf.nhostnames; h++)
		collect_one(&c, ACME_SERVICE, M->conf.hostnames[h], "");
	/* One certificate for every locker's subdomain: a CA's per-domain
	 * limit would not allow one each.  Only DNS-01 can prove it. */
	if (M->conf.acme_dns.server.host[0] != '\0' &&
	    (size_t)snprintf(wild, sizeof(wild), "*.%s", M->conf.domain) < sizeof(wild))
		collect_one(&c, ACME_WILDCARD, wild, "");
	if (dir_vhost_foreach(M->dir, NULL, collect_vhost, &c) != 0)
		log_warnx("acme: cannot list the vhosts; some names wait");
	for (i = 0; i < c.n; i++)
		if (c.v[i].kind == ACME_VHOST)
			budget(&c.v[i], now);
	statuses_follow(c.v, c.n);
	if (M->acme.pid > 0)
		names_send();
}

/* ------------------------------------------------------------ the lease */

static void
lease_renew(void)
{
	if (lease_take(M->dir, "acme", time(NULL), ACME_LEASE_TTL) == -1)
		log_debug("acme: the lease could not be taken or renewed now");
}

/* The lease renewed in time; the ACME client told at once when this node
 * starts or stops being the one that orders (a lease that lapsed too). */
void
acme_lease_tick(void)
{
	static uint64_t	 next;
	uint64_t	 now = now_ms();

	if (M->conf.acme_ca[0] == '\0' || M->stopping)
		return;
	if (now >= next) {
		lease_renew();
		next = now + ACME_LEASE_TTL * 1000 / 3;
	}
	if (M->acme.pid > 0 && sent_watch != -1 && sent_watch != !lease_mine("acme"))
		names_send();
}

void
acme_watch_refresh(void)
{
	if (M->acme.pid > 0 && sent_watch == 1)
		names_send();
}

/* ------------------------------------------------------------ from acme */

static int
name_index(const char *host)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		if (strcmp(names[i].host, host) == 0)
			return (int)i;
	return -1;
}

static int
str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL && str_is_printable(s);
}

static const char *
token_msg(const struct msg_acme_token *t)
{
	struct msg_acme_token	*slot = NULL;
	int			 i, f;

	if (!str_ok(t->token, sizeof(t->token)) || !str_ok(t->keyauth, sizeof(t->keyauth)) ||
	    !acme_token_ok(t->token) || (t->set && !acme_keyauth_ok(t->keyauth)))
		return "is not a token";
	for (i = 0; i < ACME_TOKENS_MAX; i++)
		if (tokens[i].set && strcmp(tokens[i].token, t->token) == 0)
			slot = &tokens[i];
	if (slot == NULL && t->set) {
		for (i = 0; i < ACME_TOKENS_MAX && tokens[i].set; i++)
			;
		if (i == ACME_TOKENS_MAX)
			return "is one token too many";
		slot = &tokens[i];
	}
	if (slot != NULL) {
		if (t->set)
			*slot = *t;
		else
			memset(slot, 0, sizeof(*slot));
	}
	for (f = 0; f < M->nfronts; f++)
		if (M->fronts[f].pid > 0)
			child_send(&M->fronts[f], MSG_CHALLENGE, t, sizeof(*t), -1);
	return NULL;
}

/* New handshakes get the new certificate at once: the registry (certs.c)
 * reads tls-dir again and pushes every front its set. */
static void
registry_rerun(void)
{
	certs_load(&M->conf);
}

static const char *
status_msg(const struct msg_acme_status *s)
{
	int i;

	if (!str_ok(s->host, sizeof(s->host)) || !str_ok(s->issuer, sizeof(s->issuer)) ||
	    !str_ok(s->error, sizeof(s->error)) || s->state < ACME_ST_PENDING ||
	    s->state > ACME_ST_EXPIRED)
		return "is malformed";
	if ((i = name_index(s->host)) == -1)
		return NULL;	/* a name dropped since: old news */
	statuses[i] = *s;
	return NULL;
}

/* A TLS-ALPN-01 challenge: for a name this master listed, PEM that fits;
 * kept for fronts that start later, relayed to every front now. */
static const char *
alpn_msg(const struct msg_acme_alpn *a)
{
	struct msg_acme_alpn	*slot = NULL;
	int			 i, f;

	if (!str_ok(a->host, sizeof(a->host)) || a->set > 1 ||
	    (size_t)a->cert_len + a->key_len > sizeof(a->pem))
		return "is malformed";
	if (name_index(a->host) == -1)
		return "names no host it was given";
	for (i = 0; i < ACME_ALPN_MAX && slot == NULL; i++)
		if (alpns[i].set && strcmp(alpns[i].host, a->host) == 0)
			slot = &alpns[i];
	for (i = 0; i < ACME_ALPN_MAX && slot == NULL && a->set; i++)
		if (!alpns[i].set)
			slot = &alpns[i];
	if (slot == NULL && a->set)
		return "is one challenge too many";
	if (slot != NULL && a->set)
		*slot = *a;
	else if (slot != NULL)
		memset(slot, 0, sizeof(*slot));
	for (f = 0; f < M->nfronts; f++)
		if (M->fronts[f].pid > 0)
			child_send(&M->fronts[f], MSG_CHALLENGE_ALPN, a, sizeof(*a), -1);
	return NULL;
}

/*
 * On demand: a handshake named a name without a certificate.  Passed on
 * only for a vhost of the directory (the list is the directory's) that is
 * waiting, within its budget, once a minute at most: a visitor arriving
 * is a sign its DNS leads here now.  Any other name is dropped here.
 */
static const char *
want_msg(const char *host, size_t len)
{
	/* Once a minute per name, whatever the number of fronts: the channel
	 * to acme never fills while acme waits on its CA. */
	static struct {
		char		host[HOSTNAME_MAX + 1];
		uint64_t	at;
	}			 sent[64];
	struct msg_acme_issued	 m;
	uint64_t		 now = now_ms();
	int			 i, k, oldest = 0;

	if (len < 2 || host[len - 1] != '\0' || strlen(host) != len - 1)
		return "is not a name";
	if ((i = name_index(host)) == -1 || names[i].kind != ACME_VHOST ||
	    names[i].over_budget || statuses[i].state == ACME_ST_ISSUED ||
	    statuses[i].state == ACME_ST_RATE_LIMITED || M->acme.pid <= 0)
		return NULL;
	for (k = 0; k < 64; k++) {
		if (strcmp(sent[k].host, host) == 0 && now - sent[k].at < 60000)
			return NULL;
		if (sent[k].at < sent[oldest].at)
			oldest = k;
	}
	snprintf(sent[oldest].host, sizeof(sent[oldest].host), "%s", host);
	sent[oldest].at = now;
	memset(&m, 0, sizeof(m));
	snprintf(m.host, sizeof(m.host), "%s", host);
	child_send(&M->acme, MSG_ACME_NOW, &m, sizeof(m), -1);
	return NULL;
}

const char *
acme_master_msg(enum msg_type type, const void *buf, size_t len)
{
	const struct msg_acme_issued *is = buf;
	const char *why;

	switch (type) {	/* msg_rules[]: each exactly its struct, but the name */
	case MSG_TLS_WANT:
		return want_msg(buf, len);
	case MSG_ACME_TOKEN:
		if ((why = token_msg(buf)) == NULL)
			acme_share_publish(buf);	/* for the fleet's other nodes */
		return why;
	case MSG_ACME_ALPN:
		return alpn_msg(buf);
	case MSG_ACME_STATUS:
		return status_msg(buf);
	case MSG_ACME_ISSUED:
		if (!str_ok(is->host, sizeof(is->host)) || name_index(is->host) == -1)
			return "names no host it was given";
		log_info("acme: a certificate for %s is in %s", is->host, M->conf.tls_dir);
		registry_rerun();
		return NULL;
	default:
		return NULL;
	}
}

/* Another node's token (acme_share.c), checked as acme's own are. */
const char *
acme_token_relay(const struct msg_acme_token *t)
{
	return token_msg(t);
}

/* ------------------------------------------------------------ others */

/*
 * DNS-01's TSIG key (acme-dns-update): its file is root's alone, so the
 * master opens it and hands acme the descriptor, at acme's start and at
 * each reload (after the configuration, which names the server).
 */
void
acme_tsig_send(void)
{
	int fd;

	if (M->acme.pid <= 0 || M->conf.acme_dns.server.host[0] == '\0')
		return;
	if ((fd = open(M->conf.acme_dns.secret_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("acme-dns-update: %s", M->conf.acme_dns.secret_file);
		return;
	}
	child_send(&M->acme, MSG_ACME_TSIG, NULL, 0, fd);
	close(fd);
}

/* The ACME client (acme.c), when a CA is configured; it gets the names
 * the directory allows it at once. */
void
acme_start(void)
{
	struct child	*a = &M->acme;
	int		 end;

	if (M->conf.acme_ca[0] == '\0')
		return;
	if ((end = new_channel(a)) == -1) {
		a->restart_at_ms = now_ms() + 1000;
		return;
	}
	a->pid = spawn_role(M->exe_fd, "acme", NULL, end, NULL, 0, NULL, NULL);
	close(end);
	if (child_spawned(a, "acme") == -1)
		return;
	acme_tsig_send();
	if (!lease_mine("acme"))
		lease_renew();	/* at the first start: ordering at once if ours */
	names_send();
}

void
acme_front_started(struct child *f)
{
	int i;

	for (i = 0; i < ACME_TOKENS_MAX; i++)
		if (tokens[i].set)
			child_send(f, MSG_CHALLENGE, &tokens[i], sizeof(tokens[i]), -1);
	for (i = 0; i < ACME_ALPN_MAX; i++)
		if (alpns[i].set)
			child_send(f, MSG_CHALLENGE_ALPN, &alpns[i], sizeof(alpns[i]), -1);
}

int
acme_status_foreach(int (*cb)(const struct acme_name *, const struct msg_acme_status *,
    void *), void *arg)
{
	size_t i;

	for (i = 0; i < nnames; i++)
		if (cb(&names[i], &statuses[i], arg) != 0)
			return -1;
	return 0;
}
