/*
 * hesiod.c: the hesiod role (MR_HESIOD): publishes the lockers as Hesiod
 * records (hesiod.h) by RFC 2136 updates to hesiod-server, signed with
 * hesiod-key (dnsupdate.c, shared with DNS-01).
 *
 * A role of its own, not the ACME client's: acme runs only where acme-ca
 * is set, and its loop waits on CAs for minutes; publishing must follow
 * every signup within a second whether or not certificates are ordered,
 * and a hostile CA that subverted acme should not get the zone's other
 * key.  It runs as key-user (the user that already holds DNS keys),
 * chrooted in an empty directory, under its own seccomp filter; it has the
 * TSIG secret (a descriptor the master opened as root) and the network,
 * and nothing else: no file, no directory.  The master sends it typed
 * lockers (name, uid, gid), never text; it checks each name again.
 *
 * It keeps every locker (want) and sends: a change as one UPDATE; at its
 * start, on `locker export hesiod --sync` and after any failure (every
 * hesiod-retry until it succeeds) a full round: a zone transfer (AXFR,
 * with the key) compared with want, the difference sent.  The DNS server
 * down costs nothing but the records' freshness: the master never waits
 * for this role.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "lockerd.h"
#include "dnsupdate.h"
#include "hesiod.h"

static struct {
	struct config		 conf;
	struct dnsupdate_conf	 dc;
	int			 have_key;
	struct hesiod_locker	*want;		/* sorted by name */
	size_t			 n, cap;
	int			 dirty;		/* a full round is due */
	uint64_t		 retry_at_ms;
	struct msg_hesiod_status st;
} H;

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* ------------------------------------------------------------ status */

static void
status_send(int ok, uint32_t sent, const char *why)
{
	int was = H.st.ok;

	memset(&H.st, 0, sizeof(H.st));
	H.st.ok = ok;
	H.st.lockers = (uint32_t)H.n;
	H.st.sent = sent;
	H.st.at = time(NULL);
	snprintf(H.st.why, sizeof(H.st.why), "%s", ok ? "" : why);
	if (!ok)
		log_warnx("hesiod: %s; trying again in %us", why, H.conf.hesiod.retry);
	else if (!was)
		log_info("hesiod: the zone holds the records of %zu lockers", H.n);
	msg_send(CHILD_CHAN_FD, MSG_HESIOD_STATUS, &H.st, sizeof(H.st), -1);
}

static void
failed(const char *why)
{
	H.dirty = 1;
	H.retry_at_ms = now_ms() + (uint64_t)H.conf.hesiod.retry * 1000;
	status_send(0, 0, why);
}

/* ------------------------------------------------------------ want */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hesiod_locker *)a)->name,
	    ((const struct hesiod_locker *)b)->name);
}

static struct hesiod_locker *
want_find(const char *name)
{
	struct hesiod_locker key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return H.n ? bsearch(&key, H.want, H.n, sizeof(*H.want), name_cmp) : NULL;
}

static int
want_put(const struct hesiod_locker *l)
{
	struct hesiod_locker	*w = want_find(l->name);
	size_t			 i;

	if (w != NULL) {
		*w = *l;
		return 0;
	}
	if (H.n == H.cap) {
		size_t	cap = H.cap ? H.cap * 2 : 256;
		void	*v = realloc(H.want, cap * sizeof(*H.want));

		if (v == NULL)
			return -1;
		H.want = v;
		H.cap = cap;
	}
	for (i = H.n; i > 0 && strcmp(H.want[i - 1].name, l->name) > 0; i--)
		;
	memmove(&H.want[i + 1], &H.want[i], (H.n - i) * sizeof(*H.want));
	H.want[i] = *l;
	H.n++;
	return 0;
}

static void
want_del(struct hesiod_locker *w)
{
	size_t i = (size_t)(w - H.want);

	memmove(&H.want[i], &H.want[i + 1], (H.n - i - 1) * sizeof(*H.want));
	H.n--;
}

/* ------------------------------------------------------------ the zone */

static int
emit(const ldns_rr_list *up, void *arg)
{
	return dnsupdate_send(&H.dc, up, arg, 240);
}

/* The zone's records at owners of ours, by a transfer signed with the key.
 * (ldns does not check the TSIG of a transfer's answers: a forged one can
 * only make this role send records it would send anyway, or miss a stale
 * one; every UPDATE's answer is checked.) */
static int
transfer(struct hesiod_set *have, char *err, size_t errlen)
{
	ldns_resolver	*res = ldns_resolver_new();
	ldns_rdf	*ns = NULL, *zone = NULL;
	ldns_rr		*rr;
	struct timeval	 tv = { H.dc.timeout_ms / 1000, (H.dc.timeout_ms % 1000) * 1000 };
	char		 key[HOSTNAME_MAX + 2], zname[HOSTNAME_MAX + 2];
	int		 rc = -1, n = 0;

	snprintf(key, sizeof(key), "%s.", H.dc.keyname);
	snprintf(zname, sizeof(zname), "%s.", H.dc.zone);
	if (res == NULL || (ns = ldns_rdf_new_frm_str(H.dc.family == AF_INET6 ?
	    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, H.dc.server)) == NULL ||
	    ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK ||
	    (zone = ldns_dname_new_frm_str(zname)) == NULL) {
		snprintf(err, errlen, "cannot set up the transfer");
		goto out;
	}
	ldns_resolver_set_port(res, (uint16_t)atoi(H.dc.port));
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_tsig_keyname(res, key);
	ldns_resolver_set_tsig_keydata(res, H.dc.secret);
	ldns_resolver_set_tsig_algorithm(res, H.dc.alg == TSIG_HMAC_SHA512 ? "hmac-sha512." :
	    "hmac-sha256.");
	if (ldns_axfr_start(res, zone, LDNS_RR_CLASS_IN) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s port %s: no transfer of %s", H.dc.server, H.dc.port,
		    H.dc.zone);
		goto out;
	}
	while ((rr = ldns_axfr_next(res)) != NULL) {
		n += hesiod_set_add_rr(have, &H.conf, rr) == -1;
		ldns_rr_free(rr);
	}
	if (!ldns_axfr_complete(res) || n > 0) {
		const ldns_pkt *last = ldns_axfr_last_pkt(res);

		snprintf(err, errlen, "%s port %s: the transfer of %s failed (%s)", H.dc.server,
		    H.dc.port, H.dc.zone, last != NULL ? ldns_pkt_rcode2str(ldns_pkt_get_rcode(
		    last)) : "no answer");
		goto out;
	}
	rc = 0;
out:
	ldns_axfr_abort(res);
	ldns_rdf_deep_free(ns);
	ldns_rdf_deep_free(zone);
	ldns_resolver_deep_free(res);
	return rc;
}

/* Compares the zone with want and sends the difference. */
static void
full_round(void)
{
	struct hesiod_set	have = { 0 }, want = { 0 };
	char			err[240] = "";
	uint32_t		sent = 0;
	size_t			i;

	H.dirty = 0;
	if (transfer(&have, err, sizeof(err)) == -1) {
		hesiod_set_free(&have);
		failed(err);
		return;
	}
	for (i = 0; i < H.n; i++)
		if (hesiod_set_add_locker(&want, &H.conf, &H.want[i], err, sizeof(err)) == -1)
			log_warnx("hesiod: %s", err);	/* the others go on */
	if (hesiod_plan(&have, &want, &sent, emit, err) == -1) {
		hesiod_set_free(&have);
		hesiod_set_free(&want);
		failed(err[0] ? err : "out of memory");
		return;
	}
	hesiod_set_free(&have);
	hesiod_set_free(&want);
	status_send(1, sent, "");
}

static void
one_locker(const struct hesiod_locker *l, int del)
{
	ldns_rr_list	*up;
	char		 err[240];

	if (H.dirty) {		/* a round is due anyway: it covers this too */
		full_round();
		return;
	}
	if ((up = hesiod_locker_update(&H.conf, l, del, err, sizeof(err))) == NULL) {
		log_warnx("hesiod: %s", err);
		return;
	}
	if (dnsupdate_send(&H.dc, up, err, sizeof(err)) == -1)
		failed(err);
	else
		status_send(1, (uint32_t)ldns_rr_list_rr_count(up), "");
	ldns_rr_list_deep_free(up);
}

/* ------------------------------------------------------------ messages */

/* A locker as the master sent it: its name checked here again. */
static int
locker_ok(const struct hesiod_locker *l)
{
	size_t n = strnlen(l->name, sizeof(l->name));

	return n < sizeof(l->name) && locker_label_check(l->name, n, NULL, 0) == 0;
}

/* MSG_HESIOD_ALL: want is the memfd's lockers; what changed is sent. */
static const char *
on_all(const struct msg_hesiod_all *m, int fd)
{
	struct hesiod_locker	*v, *old = H.want;
	size_t			 oldn = H.n, i, j, bytes;

	if (m->n > HESIOD_LOCKERS_MAX)
		return "too many lockers";
	bytes = (size_t)m->n * sizeof(*v);
	if ((v = malloc(bytes ? bytes : 1)) == NULL)
		return NULL;	/* no memory: the next push tries again */
	if (bytes && pread(fd, v, bytes, 0) != (ssize_t)bytes) {
		free(v);
		return "a memfd shorter than its count";
	}
	for (i = 0; i < m->n; i++)
		if (!locker_ok(&v[i])) {
			free(v);
			return "a locker that is not a DNS label";
		}
	qsort(v, m->n, sizeof(*v), name_cmp);
	H.want = v;
	H.n = H.cap = m->n;
	if (m->full || H.dirty || !H.have_key) {
		free(old);
		if (H.have_key)
			full_round();
		return NULL;
	}
	/* Not full: the changes against the last set, each its own update. */
	for (i = j = 0; i < oldn || j < H.n;) {
		int d = i == oldn ? 1 : j == H.n ? -1 : strcmp(old[i].name, H.want[j].name);

		if (d < 0)
			one_locker(&old[i++], 1);
		else if (d > 0 || old[i].uid != H.want[j].uid || old[i].gid != H.want[j].gid) {
			one_locker(&H.want[j], 0);
			i += d == 0;
			j++;
		} else
			i++, j++;
	}
	free(old);
	return NULL;
}

static const char *
on_message(enum msg_type type, const void *buf, int fd)
{
	const struct hesiod_locker	*l = buf;
	struct hesiod_locker		*w;
	char				 err[240];

	switch (type) {
	case MSG_CONFIG:
		H.conf = *(const struct config *)buf;
		return NULL;
	case MSG_HESIOD_KEY:
		if (dnsupdate_secret_read(fd, H.dc.secret, sizeof(H.dc.secret), err,
		    sizeof(err)) == -1) {
			log_warnx("hesiod: %s: %s", H.conf.hesiod.secret_file, err);
			H.have_key = 0;
			return NULL;
		}
		snprintf(H.dc.server, sizeof(H.dc.server), "%s", H.conf.hesiod.server.host);
		snprintf(H.dc.port, sizeof(H.dc.port), "%s", H.conf.hesiod.server.port);
		H.dc.family = H.conf.hesiod.server.family;
		snprintf(H.dc.zone, sizeof(H.dc.zone), "%s", H.conf.hesiod.zone);
		snprintf(H.dc.keyname, sizeof(H.dc.keyname), "%s", H.conf.hesiod.keyname);
		H.dc.alg = H.conf.hesiod.alg;
		H.dc.timeout_ms = H.conf.dns_timeout * 1000;
		H.have_key = 1;
		return NULL;
	case MSG_HESIOD_ALL:
		return on_all(buf, fd);
	case MSG_HESIOD_PUT:
	case MSG_HESIOD_DEL:
		if (!locker_ok(l))
			return "a locker that is not a DNS label";
		w = want_find(l->name);
		if (type == MSG_HESIOD_DEL) {
			if (w == NULL)
				return NULL;	/* never published: nothing to delete */
			struct hesiod_locker gone = *w;

			want_del(w);
			if (H.have_key)
				one_locker(&gone, 1);
		} else if (want_put(l) == 0 && H.have_key)
			one_locker(l, 0);
		return NULL;
	default:
		return "not a message of the hesiod role's";
	}
}

static void
pump(void)
{
	static union {
		struct config		c;
		struct msg_hesiod_all	a;
		struct hesiod_locker	l;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	for (;;) {
		n = msg_recv_checked(CHILD_CHAN_FD, MR_HESIOD, MR_MASTER, &type, &m, sizeof(m),
		    &fd, &why);
		if (n == MSG_BREACH) {
			msg_breach(MR_HESIOD, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
			exit(1);
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1 || type == MSG_NONE)
			exit(0);	/* the master went */
		why = on_message(type, &m, fd);
		if (fd != -1)
			close(fd);
		if (why != NULL) {
			msg_breach(MR_HESIOD, MR_MASTER, "", type, why);
			exit(1);
		}
	}
}

int
hesiod_main(void)
{
	struct pollfd	pfd = { .fd = CHILD_CHAN_FD, .events = POLLIN };
	char		err[256], root[PATH_MAX];
	enum msg_type	type;
	const char	*why;
	ssize_t		n;
	int		fd, wait_ms;

	log_init("hesiod", getenv("LOCKERD_DEBUG") != NULL);
	child_reset(CHILD_DIE_WITH_PARENT);
	n = msg_recv_checked(CHILD_CHAN_FD, MR_HESIOD, MR_MASTER, &type, &H.conf,
	    sizeof(H.conf), &fd, &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("hesiod: no configuration from the master");
	snprintf(root, sizeof(root), "%s/empty", H.conf.state);
	drop_privileges(H.conf.key_user, root);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	set_nonblock(CHILD_CHAN_FD);
	if (seccomp_hesiod(err, sizeof(err)) == -1)
		fatalx("hesiod: %s", err);
	while (!stop) {
		pump();
		if (H.dirty && H.have_key && now_ms() >= H.retry_at_ms)
			full_round();
		wait_ms = H.dirty ? (int)(H.retry_at_ms > now_ms() ? H.retry_at_ms - now_ms() :
		    0) : -1;
		if (poll(&pfd, 1, wait_ms) == -1 && errno != EINTR)
			fatal("hesiod: poll");
	}
	return 0;
}
