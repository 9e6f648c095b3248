/*
 * acme.c: the ACME client's process (MR_ACME).  It runs as key-user in
 * tls-dir, not chrooted (it needs the CA's address and the DNS), with
 * no_new_privs, and holds the account key.  The master tells it which
 * names it may have certificates for (MSG_ACME_NAMES, decided from the
 * directory: acme_master.c); it asks for nothing else.  It keeps, per
 * host, the certificate's dates, the next renewal or try, and the last
 * error, in HOST.state beside HOST.crt and HOST.key, all written
 * atomically; it tells the master each host's state (MSG_ACME_STATUS)
 * and when new files are there (MSG_ACME_ISSUED).
 *
 * One order at a time, each exchange blocking with its own deadline: the
 * master's channel is read between them, so the master never waits on
 * the CA, and neither does any front.  Renewal starts at two thirds of a
 * certificate's lifetime (or when the CA's ARI says); failures back off
 * from acme-retry, doubled with jitter up to a day, and move to
 * acme-ca-fallback after acme-fallback-after of them.  Orders are
 * counted over 3 hours against acme-orders-per-3h, below the CA's own.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "lockerd.h"
#include "acme_int.h"

#define DAY		86400
#define ORDER_WINDOW	(3 * 3600)

static struct acme_ctx	 A0;
static volatile sig_atomic_t stop_signal;

static void
on_term(int sig)
{
	(void)sig;
	stop_signal = 1;
}

/* ------------------------------------------------------------ the store */

int
acme_store_write(const char *name, const void *data, size_t len, char *err, size_t errlen)
{
	char	tmp[HOSTNAME_MAX + 48];
	int	fd, dfd;

	/* Names come from acme_host_file() or are our own: no '/', no "..". */
	if (strchr(name, '/') != NULL || name[0] == '.') {
		snprintf(err, errlen, "refusing to write \"%s\"", name);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return errno_fail(err, errlen, "create %s", tmp);
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		return errno_fail(err, errlen, "write %s", tmp);
	}
	close(fd);
	if (rename(tmp, name) == -1) {
		unlink(tmp);
		return errno_fail(err, errlen, "rename %s", name);
	}
	if ((dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void
state_save(const struct acme_host *h)
{
	char	 name[HOSTNAME_MAX + 32], err[256], *s;
	json_t	*j;

	j = json_pack("{s:s,s:I,s:I,s:I,s:i,s:i,s:s,s:s}", "host", h->host,
	    "not_before", (json_int_t)h->not_before, "not_after", (json_int_t)h->not_after,
	    "next", (json_int_t)h->next_at, "failures", (int)h->failures, "ca", h->ca,
	    "issuer", h->issuer, "error", h->error);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(name, sizeof(name), "%s.state", h->file);
	if (s == NULL || acme_store_write(name, s, strlen(s), err, sizeof(err)) == -1)
		log_warnx("acme: %s: cannot save its state: %s", h->host, s ? err : "json");
	free(s);
}

/* What the store says of a host the master just listed. */
static void
state_load(struct acme_ctx *A, struct acme_host *h)
{
	char	 name[HOSTNAME_MAX + 32];
	json_t	*j;
	int64_t	 now = time(NULL);

	snprintf(name, sizeof(name), "%s.crt", h->file);
	if (acme_cert_file_info(name, &h->not_before, &h->not_after, h->issuer,
	    sizeof(h->issuer)) == 0 && h->not_after > now) {
		h->state = ACME_ST_ISSUED;
		h->next_at = h->not_before + (h->not_after - h->not_before) * 2 / 3;
	} else {
		h->not_before = h->not_after = 0;
		h->state = ACME_ST_PENDING;
		h->next_at = now;
	}
	snprintf(name, sizeof(name), "%s.state", h->file);
	if ((j = json_load_file(name, 0, NULL)) == NULL)
		return;
	if (json_integer_value(json_object_get(j, "failures")) > 0) {
		int64_t next = json_integer_value(json_object_get(j, "next"));

		h->failures = (uint32_t)json_integer_value(json_object_get(j, "failures"));
		h->ca = json_integer_value(json_object_get(j, "ca")) == 1 &&
		    A->ca[1].url[0] ? 1 : 0;
		if (next > now && next < now + DAY)
			h->next_at = next;
		if (json_is_string(json_object_get(j, "error")))
			snprintf(h->error, sizeof(h->error), "%s",
			    json_string_value(json_object_get(j, "error")));
		if (h->state != ACME_ST_ISSUED)
			h->state = ACME_ST_FAILED;
		else
			h->renew_failed = 1;
	}
	json_decref(j);
}

/* The account key, made on the first start and kept (0600, key-user's). */
static EVP_PKEY *
account_key(void)
{
	EVP_PKEY	*k = NULL;
	FILE		*f;
	BIO		*b;
	char		*p, err[256];
	long		 n;

	if ((f = fopen("account.key", "re")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
			fatalx("acme: account.key is not an ECDSA P-256 key in PEM");
		return k;
	}
	if ((k = acme_key_new(ACME_KEY_ECDSA)) == NULL || (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0)
		fatalx("acme: cannot make the account key");
	if (acme_store_write("account.key", p, (size_t)n, err, sizeof(err)) == -1)
		fatalx("acme: %s", err);
	BIO_free(b);
	log_info("acme: made a new account key");
	return k;
}

/* ------------------------------------------------------------ the master */

static void
send_status(struct acme_ctx *A, const struct acme_host *h)
{
	struct msg_acme_status s;

	(void)A;
	memset(&s, 0, sizeof(s));
	snprintf(s.host, sizeof(s.host), "%s", h->host);
	s.state = (uint8_t)h->state;
	s.renew_failed = (uint8_t)h->renew_failed;
	s.not_after = h->not_after;
	s.next_renewal = h->next_at;
	snprintf(s.issuer, sizeof(s.issuer), "%s", h->issuer);
	snprintf(s.error, sizeof(s.error), "%s", h->error);
	if (msg_send(CHILD_CHAN_FD, MSG_ACME_STATUS, &s, sizeof(s), -1) == -1)
		fatal("acme: send to the master");
}

int
acme_send_token(struct acme_ctx *A, int set, const char *token, const char *keyauth)
{
	struct msg_acme_token t;

	(void)A;
	memset(&t, 0, sizeof(t));
	t.set = (uint8_t)set;
	if (strlcpy_ok(t.token, token, sizeof(t.token)) == -1 ||
	    strlcpy_ok(t.keyauth, keyauth, sizeof(t.keyauth)) == -1)
		return -1;
	return msg_send(CHILD_CHAN_FD, MSG_ACME_TOKEN, &t, sizeof(t), -1);
}

static struct acme_host *
host_find(struct acme_ctx *A, const char *host)
{
	size_t i;

	for (i = 0; i < A->nhosts; i++)
		if (strcmp(A->hosts[i].host, host) == 0)
			return &A->hosts[i];
	return NULL;
}

/* One name of the master's list; a new one gets its stored state. */
static void
name_add(struct acme_ctx *A, const struct acme_name *n)
{
	struct acme_host	*h;
	char			 file[sizeof(h->file)];

	if (memchr(n->host, '\0', sizeof(n->host)) == NULL ||
	    memchr(n->locker, '\0', sizeof(n->locker)) == NULL ||
	    acme_host_file(n->host, file, sizeof(file)) == -1) {
		log_warnx("acme: the master sent a name that cannot be one; ignored");
		return;
	}
	if ((h = host_find(A, n->host)) == NULL) {
		if (A->nhosts == ACME_NAMES_MAX)
			return;
		h = &A->hosts[A->nhosts++];
		memset(h, 0, sizeof(*h));
		snprintf(h->host, sizeof(h->host), "%s", n->host);
		snprintf(h->file, sizeof(h->file), "%s", file);
		state_load(A, h);
		h->listed = 1;
		h->over_budget = n->over_budget;
		snprintf(h->locker, sizeof(h->locker), "%s", n->locker);
		h->kind = n->kind;
		if (h->over_budget && h->state != ACME_ST_ISSUED) {
			/* Said at once, as the master does: never "pending" first. */
			h->state = ACME_ST_RATE_LIMITED;
			snprintf(h->error, sizeof(h->error), "locker %s has had "
			    "acme-names-per-week new names issued this week", h->locker);
		}
		send_status(A, h);
		return;
	}
	h->listed = 1;
	h->kind = n->kind;
	if (h->over_budget && !n->over_budget)
		h->next_at = time(NULL);	/* its locker's budget grew */
	h->over_budget = n->over_budget;
	snprintf(h->locker, sizeof(h->locker), "%s", n->locker);
}

/* Every host's state as tls-dir has it now: while another node holds the
 * lease (its renewals, its failures), and once this one takes it over. */
static void
states_reload(struct acme_ctx *A)
{
	size_t i;

	for (i = 0; i < A->nhosts; i++) {
		struct acme_host *h = &A->hosts[i];

		h->failures = h->ca_failures = 0;
		h->renew_failed = 0;
		h->error[0] = '\0';
		state_load(A, h);
		if (h->over_budget && h->state != ACME_ST_ISSUED) {
			h->state = ACME_ST_RATE_LIMITED;
			snprintf(h->error, sizeof(h->error), "locker %s has had "
			    "acme-names-per-week new names issued this week", h->locker);
		}
		send_status(A, h);
	}
}

/* A batch of MSG_ACME_NAMES: the first unmarks every host; those no batch
 * named are dropped by hosts_compact(), between orders (their files stay:
 * the master decides what is served). */
static void
names_batch(struct acme_ctx *A, const struct msg_acme_names *m, size_t len, int *in_list)
{
	size_t	i;
	int	watch = (m->flags & ACME_NAMES_WATCH) != 0;

	if (m->n > ACME_NAMES_BATCH || len != sizeof(*m) + m->n * sizeof(struct acme_name))
		fatalx("acme: a list of names that does not add up");
	if (!*in_list)
		for (i = 0; i < A->nhosts; i++)
			A->hosts[i].listed = 0;
	*in_list = !(m->flags & ACME_NAMES_LAST);
	for (i = 0; i < m->n; i++)
		name_add(A, &m->names[i]);
	if (*in_list)
		return;
	/* Watching, each list is a look at the holder's files; taking over,
	 * one last look before ordering what is due. */
	if (watch || A->watch)
		states_reload(A);
	if (watch != A->watch)
		log_info("acme: %s", watch ? "another node holds the acme lease: it orders "
		    "the certificates, this one serves them from tls-dir" :
		    "this node holds the acme lease: it orders the certificates");
	A->watch = watch;
}

/* Not while an order runs: it holds a pointer into the table. */
static void
hosts_compact(struct acme_ctx *A)
{
	size_t	i, j;

	for (i = j = 0; i < A->nhosts; i++)
		if (A->hosts[i].listed)
			A->hosts[j++] = A->hosts[i];
	A->nhosts = j;
}

/* DNS-01's key, from the descriptor of its file the master opened. */
static void
tsig_read(struct acme_ctx *A, int fd)
{
	char err[400];

	A->have_dns = dns01_conf_init(&A->dns, &A->conf, fd, err, sizeof(err)) == 0;
	if (!A->have_dns)
		log_warnx("acme: DNS-01: %s; the wildcard waits", err);
}

/* SIGHUP: a CA whose URL changed is a new CA (its directory, our account
 * there, its nonces); the master kept every CONF_RESTART key. */
static void
config_changed(struct acme_ctx *A, const struct config *c)
{
	size_t	h;
	int	i;

	for (i = 0; i < 2; i++)
		if (strcmp(i ? A->conf.acme_ca_fallback : A->conf.acme_ca,
		    i ? c->acme_ca_fallback : c->acme_ca) != 0) {
			memset(&A->ca[i], 0, sizeof(A->ca[i]));
			/* What failed at the old CA is tried at the new one now. */
			for (h = 0; h < A->nhosts; h++)
				if (A->hosts[h].failures > 0 && A->hosts[h].ca == i)
					A->hosts[h].next_at = time(NULL);
		}
	A->conf = *c;
	A->ca[0].url = A->conf.acme_ca;
	A->ca[1].url = A->conf.acme_ca_fallback;
}

/* A visitor asked for a waiting name (the master checked it is a vhost
 * of the directory within its budget): its next try is now. */
static void
wanted(struct acme_ctx *A, const struct msg_acme_issued *m)
{
	struct acme_host	*h;
	int64_t			 now = time(NULL);

	/* A name that did not resolve here cost only a DNS question; one the
	 * CA refused, an order: a minute between those. */
	if (memchr(m->host, '\0', sizeof(m->host)) == NULL ||
	    (h = host_find(A, m->host)) == NULL || h->state == ACME_ST_ISSUED ||
	    h->over_budget || now - h->last_try < (h->state == ACME_ST_PENDING ? 5 : 60))
		return;
	if (h->next_at > now)
		h->next_at = now;
}

void
acme_pump(struct acme_ctx *A)
{
	static union {
		struct config		c;
		struct msg_acme_names	n;
		struct msg_acme_issued	w;
		char			buf[sizeof(struct msg_acme_names) +
					    ACME_NAMES_BATCH * sizeof(struct acme_name)];
	} m;
	static int	 in_list;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd;

	for (;;) {
		n = msg_recv_checked(CHILD_CHAN_FD, MR_ACME, MR_MASTER, &type, &m, sizeof(m), &fd,
		    &why);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == MSG_BREACH) {
			msg_breach(MR_ACME, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
			exit(1);
		}
		if (n == -1 || type == MSG_NONE)
			fatalx("acme: the master went away");
		if (type == MSG_CONFIG) {
			config_changed(A, &m.c);
			if (A->conf.acme_dns.server.host[0] == '\0')
				A->have_dns = 0;
		} else if (type == MSG_ACME_NAMES)
			names_batch(A, &m.n, (size_t)n, &in_list);
		else if (type == MSG_ACME_NOW)
			wanted(A, &m.w);
		else if (type == MSG_ACME_TSIG)
			tsig_read(A, fd);
		if (fd != -1)
			close(fd);
	}
	if (stop_signal)
		exit(0);
}

void
acme_sleep(struct acme_ctx *A, uint32_t ms)
{
	struct pollfd	pfd = { .fd = CHILD_CHAN_FD, .events = POLLIN };
	uint64_t	until = now_ms() + ms;

	while (now_ms() < until) {
		poll(&pfd, 1, (int)(until - now_ms()));
		acme_pump(A);
	}
}

/* ------------------------------------------------------------ scheduling */

static uint32_t
jitter(uint32_t s)
{
	uint32_t r = 0;

	RAND_bytes((unsigned char *)&r, sizeof(r));
	return s - s / 4 + (s >= 2 ? r % (s / 2) : 0);	/* +-25% */
}

static int64_t
backoff(struct acme_ctx *A, uint32_t failures)
{
	uint64_t s = A->conf.acme_retry;
	uint32_t i;

	for (i = 1; i < failures && s < DAY; i++)
		s *= 2;
	return jitter((uint32_t)(s > DAY ? DAY : s));
}

/* Orders of the last 3 hours; 0 if one more may go, else when it may. */
static int64_t
order_budget(struct acme_ctx *A, int64_t now)
{
	size_t	 i, n = A->norders < ACME_ORDERS_KEPT ? A->norders : ACME_ORDERS_KEPT, used = 0;
	int64_t	 oldest = now;

	for (i = 0; i < n; i++)
		if (A->orders[i] > now - ORDER_WINDOW) {
			used++;
			if (A->orders[i] < oldest)
				oldest = A->orders[i];
		}
	return used < A->conf.acme_orders_per_3h ? 0 : oldest + ORDER_WINDOW;
}

/* Whether h may be ordered yet: a wildcard is proved in the DNS, any
 * other name by a challenge the CA sends here, which it must find. */
static int
leads_here(struct acme_ctx *A, struct acme_host *h, char *err, size_t errlen)
{
	if (h->kind == ACME_WILDCARD)
		return 1;
	return resolves_here(h->host, &A->conf, err, errlen) == 1;
}

static void
issued(struct acme_ctx *A, struct acme_host *h)
{
	struct msg_acme_issued	m;
	char			name[HOSTNAME_MAX + 32], *pem = NULL;
	int64_t			ari = 0;
	FILE			*f;
	size_t			n;

	h->state = ACME_ST_ISSUED;
	h->renew_failed = 0;
	h->failures = h->ca_failures = 0;
	h->error[0] = '\0';
	h->next_at = h->not_before + (h->not_after - h->not_before) * 2 / 3;
	snprintf(name, sizeof(name), "%s.crt", h->file);
	if ((f = fopen(name, "re")) != NULL && (pem = malloc(ACME_BODY_MAX)) != NULL &&
	    (n = fread(pem, 1, ACME_BODY_MAX, f)) > 0)
		ari = acme_ari_start(A, h->ca, pem, n);
	if (f != NULL)
		fclose(f);
	free(pem);
	if (ari > time(NULL) && ari < h->not_after)
		h->next_at = ari;
	log_info("acme: %s: certificate issued by %s, valid until %lld", h->host,
	    h->issuer[0] ? h->issuer : "?", (long long)h->not_after);
	memset(&m, 0, sizeof(m));
	snprintf(m.host, sizeof(m.host), "%s", h->host);
	if (msg_send(CHILD_CHAN_FD, MSG_ACME_ISSUED, &m, sizeof(m), -1) == -1)
		fatal("acme: send to the master");
}

static void
failed(struct acme_ctx *A, struct acme_host *h, int rc, const char *err)
{
	int64_t now = time(NULL);

	snprintf(h->error, sizeof(h->error), "%s", err);
	h->failures++;
	h->ca_failures++;
	h->next_at = now + backoff(A, h->failures);
	/* acme-fallback-after failures at one CA: the other gets a prompt first
	 * try; the backoff counts them all, so two CAs are not tried twice as
	 * often as one. */
	if (A->ca[1].url[0] != '\0' && h->ca_failures >= A->conf.acme_fallback_after) {
		h->ca = !h->ca;
		h->ca_failures = 0;
		h->next_at = now + jitter(A->conf.acme_retry);
	}
	if (h->not_after > now) {
		h->renew_failed = 1;
		log_warnx("acme: %s: renewal failed (%s); the certificate served until "
		    "now stays until it expires at %lld", h->host, err, (long long)h->not_after);
	} else {
		h->state = rc == ACME_RATE_LIMITED ? ACME_ST_RATE_LIMITED :
		    h->not_after != 0 ? ACME_ST_EXPIRED : ACME_ST_FAILED;
		log_warnx("acme: %s: %s; next try in %llds", h->host, err,
		    (long long)(h->next_at - now));
	}
}

/* A host whose turn it is: budgets first, then the CA. */
static void
run_host(struct acme_ctx *A, struct acme_host *h)
{
	int64_t	now = time(NULL), when;
	char	err[ACME_ERROR_MAX + 1], why[ACME_ERROR_MAX + 1];
	int	rc;

	h->last_try = now;
	if (h->over_budget) {
		h->state = h->not_after > now ? h->state : ACME_ST_RATE_LIMITED;
		snprintf(h->error, sizeof(h->error), "locker %s has had acme-names-per-week new "
		    "names issued this week", h->locker);
		h->next_at = now + 3600;
	} else if ((when = order_budget(A, now)) != 0) {
		h->state = h->not_after > now ? h->state : ACME_ST_RATE_LIMITED;
		snprintf(h->error, sizeof(h->error), "acme-orders-per-3h (%u) reached",
		    A->conf.acme_orders_per_3h);
		h->next_at = when;
	} else if (!leads_here(A, h, why, sizeof(why))) {
		h->state = h->not_after > now ? h->state : ACME_ST_PENDING;
		snprintf(h->error, sizeof(h->error), "the name does not lead here yet: %s", why);
		h->failures++;
		h->next_at = now + backoff(A, h->failures);
	} else {
		A->ca[h->ca].url = h->ca ? A->conf.acme_ca_fallback : A->conf.acme_ca;
		rc = acme_issue(A, h, h->ca, A->conf.acme_key_type == ACME_KEY_RSA ?
		    ACME_KEY_RSA : ACME_KEY_ECDSA, err, sizeof(err));
		if (rc == 0 && A->conf.acme_key_type == ACME_KEY_BOTH)
			rc = acme_issue(A, h, h->ca, ACME_KEY_RSA, err, sizeof(err));
		if (rc == 0)
			issued(A, h);
		else
			failed(A, h, rc, err);
	}
	state_save(h);
	send_status(A, h);
}

static struct acme_host *
next_due(struct acme_ctx *A, int64_t *wait_ms)
{
	struct acme_host	*best = NULL;
	int64_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < A->nhosts && !A->watch; i++)
		if (best == NULL || A->hosts[i].next_at < best->next_at)
			best = &A->hosts[i];
	if (best == NULL || best->next_at > now) {
		*wait_ms = best == NULL || best->next_at - now > 60 ? 60000 :
		    (best->next_at - now) * 1000;
		return NULL;
	}
	return best;
}

/* ------------------------------------------------------------ the role */

static void
start(struct acme_ctx *A)
{
	enum msg_type	 type;
	const char	*why;
	char		 err[256];
	ssize_t		 n;
	int		 fd;

	log_init("acme", getenv("LOCKERD_DEBUG") != NULL);
	child_reset(CHILD_DIE_WITH_PARENT);
	n = msg_recv_checked(CHILD_CHAN_FD, MR_ACME, MR_MASTER, &type, &A->conf,
	    sizeof(A->conf), &fd, &why);
	if (n < 0 || type != MSG_CONFIG)
		fatalx("acme: no configuration from the master");
	/* The roots are read as root: acme-ca-bundle is root's choice, and
	 * may be where key-user cannot read. */
	if (acme_http_init(&A->http, A->conf.acme_ca_bundle, err, sizeof(err)) == -1)
		fatalx("acme: %s", err);
	drop_privileges(A->conf.key_user, NULL);
	if (chdir(A->conf.tls_dir) == -1)
		fatal("acme: chdir %s", A->conf.tls_dir);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	set_nonblock(CHILD_CHAN_FD);
	A->account = account_key();
	if (acme_thumbprint(A->account, A->thumb, sizeof(A->thumb)) == -1)
		fatalx("acme: cannot compute the account key's thumbprint");
	if ((A->hosts = calloc(ACME_NAMES_MAX, sizeof(*A->hosts))) == NULL)
		fatal("acme: calloc");
	A->ca[0].url = A->conf.acme_ca;
	A->ca[1].url = A->conf.acme_ca_fallback;
	if (seccomp_acme(err, sizeof(err)) == -1)
		fatalx("acme: %s", err);
}

int
acme_main(void)
{
	struct acme_ctx		*A = &A0;
	struct acme_host	*h;
	struct pollfd		 pfd = { .fd = CHILD_CHAN_FD, .events = POLLIN };
	int64_t			 wait_ms;

	start(A);
	for (;;) {
		acme_pump(A);
		hosts_compact(A);
		if ((h = next_due(A, &wait_ms)) != NULL) {
			run_host(A, h);
			continue;
		}
		if (poll(&pfd, 1, (int)wait_ms) == -1 && errno != EINTR)
			fatal("acme: poll");
	}
}
