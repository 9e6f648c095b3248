/*
 * hesiod_master.c: the master's side of Hesiod publishing (hesiod.h).
 * With hesiod-server set, the master starts the hesiod role (hesiod.c),
 * hands it hesiod-key's file opened as root, and tells it of every
 * locker: all of them at its start and after a reload or a fleet feed
 * (MSG_HESIOD_ALL, a sealed memfd of typed lockers), each signup and
 * removal as it happens (MSG_HESIOD_PUT, MSG_HESIOD_DEL).  The master
 * never waits for the role or the DNS server: a signup is done when the
 * directory has it, and the records follow.
 *
 * In a fleet only the node holding the `hesiod` lease (lease.c) runs the
 * role, so that two nodes do not race each other's updates: it is taken
 * or renewed every HESIOD_LEASE_TTL / 3, the role stopped when it is lost
 * and started (with a full round) where it is won.  On one machine it is
 * always this node's.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "dnsupdate.h"
#include "hesiod.h"
#include "lease.h"

#define HESIOD_LEASE_TTL	30	/* seconds: a dead holder is replaced within it */

static struct child		 hz = { .kind = EV_CHILD, .role = ROLE_HESIOD, .chan = -1 };
static struct msg_hesiod_status	 last;
static int			 lease_ours;	/* as the last renewal saw it */
static uint64_t			 next_lease_ms;

struct child *
hesiod_child(void)
{
	return &hz;
}

static int
configured(void)
{
	return M->conf.hesiod.server.host[0] != '\0';
}

static void
lease_renew(void)
{
	int rc = lease_take(M->dir, "hesiod", time(NULL), HESIOD_LEASE_TTL);

	if (rc == 1 && !lease_ours)
		log_info("hesiod: this node (%s) holds the lease: it publishes", lease_node());
	else if (rc != 1 && lease_ours)
		log_info("hesiod: %s", rc == 0 ? "another node holds the lease now: it "
		    "publishes" : "the lease could not be renewed: publishing waits");
	lease_ours = rc == 1;
	next_lease_ms = now_ms() + HESIOD_LEASE_TTL * 1000 / 3;
}

/* Whether this node publishes: configured, and the lease's holder (a
 * lapsed lease stops it before another node may take over). */
static int
publishing(void)
{
	return configured() && lease_ours && lease_mine("hesiod");
}

int
hesiod_publishing(void)
{
	return publishing();
}

int
hesiod_check(const struct config *c, char *err, size_t errlen)
{
	if (c->hesiod.server.host[0] == '\0')
		return 0;
	if (hesiod_conf_check(c, err, errlen) == -1)
		return -1;
	if (dnsupdate_secret_check(c->hesiod.secret_file, err, errlen) == -1)
		return -1;
	if (getpwnam(c->key_user) == NULL) {
		snprintf(err, errlen, "key-user \"%s\" (the hesiod role's) does not exist",
		    c->key_user);
		return -1;
	}
	return 0;
}

static void
key_send(void)
{
	int fd;

	if ((fd = open(M->conf.hesiod.secret_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		log_warn("hesiod: %s", M->conf.hesiod.secret_file);
		return;
	}
	if (child_send(&hz, MSG_HESIOD_KEY, NULL, 0, fd) == -1)
		log_warnx("hesiod: cannot send the role its key");
	close(fd);
}

void
hesiod_start(void)
{
	int end;

	if (!configured() || M->stopping || hz.pid > 0)
		return;
	if (next_lease_ms == 0)
		lease_renew();
	if (!publishing())
		return;
	hz.restart_at_ms = 0;
	if ((end = new_channel(&hz)) == -1) {
		hz.restart_at_ms = now_ms() + 1000;
		return;
	}
	hz.pid = spawn_role(M->exe_fd, "hesiod", NULL, end, NULL, 0, NULL, NULL);
	close(end);
	if (child_spawned(&hz, "hesiod") == -1)
		return;
	key_send();
	hesiod_push_all(1);
	if (hz.restarts > 0)
		log_warnx("hesiod started again (pid %d)", (int)hz.pid);
}

/* At lockerd's stop the lease is given up too: another node takes it at
 * its next renewal, not a TTL later. */
void
hesiod_stop(int sig)
{
	if (hz.pid > 0)
		kill(hz.pid, sig);
	if (M->stopping && lease_ours) {
		if (lease_release(M->dir, "hesiod") == -1)
			log_warnx("hesiod: the lease could not be given up: it runs out in %ds",
			    HESIOD_LEASE_TTL);
		lease_ours = 0;
	}
}

void
hesiod_tick(void)
{
	uint64_t now = now_ms();

	if (!configured() || M->stopping)
		return;
	if (now >= next_lease_ms)
		lease_renew();
	if (!publishing()) {
		if (hz.pid > 0)		/* lost: the new holder publishes */
			kill(hz.pid, SIGTERM);
		return;
	}
	if (hz.pid == 0 && now >= hz.restart_at_ms)
		hesiod_start();
}

/* A new configuration: the role gets it and its key again, and compares
 * the whole zone (the zone or the records' form may have changed). */
void
hesiod_reload(void)
{
	if (hz.pid > 0 && !configured()) {
		kill(hz.pid, SIGTERM);
		return;
	}
	if (hz.pid <= 0) {
		hesiod_start();
		return;
	}
	child_send(&hz, MSG_CONFIG, &M->conf, sizeof(M->conf), -1);
	key_send();
	hesiod_push_all(1);
}

/* ------------------------------------------------------------ lockers */

struct all {
	struct hesiod_locker	*v;
	size_t			 n, cap;
};

static int
all_cb(const struct locker_rec *lr, void *arg)
{
	struct all *a = arg;

	if (a->n == a->cap) {
		size_t	cap = a->cap ? a->cap * 2 : 1024;
		void	*v = realloc(a->v, cap * sizeof(*a->v));

		if (v == NULL)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
	snprintf(a->v[a->n].name, sizeof(a->v[a->n].name), "%s", lr->name);
	a->v[a->n].uid = lr->uid;
	a->v[a->n].gid = lr->gid;
	a->n++;
	return 0;
}

void
hesiod_push_all(int full)
{
	struct msg_hesiod_all	 m;
	struct all		 a = { 0 };
	int			 fd = -1;

	if (hz.pid <= 0 || !publishing())
		return;
	if (dir_locker_foreach(M->dir, all_cb, &a) != 0) {
		log_warnx("hesiod: cannot list the lockers; the records wait");
		goto out;
	}
	if ((fd = memfd_create("lockerd-hesiod", MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1 ||
	    write_all(fd, a.v, a.n * sizeof(*a.v)) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		log_warn("hesiod: memfd");
		goto out;
	}
	m.n = (uint32_t)a.n;
	m.full = full != 0;
	child_send(&hz, MSG_HESIOD_ALL, &m, sizeof(m), fd);
out:
	if (fd != -1)
		close(fd);
	free(a.v);
}

void
hesiod_locker_added(const char *name)
{
	struct locker_rec	lr;
	struct hesiod_locker	l;

	if (hz.pid <= 0 || !publishing() || dir_locker_get(M->dir, name, &lr) != 1)
		return;
	memset(&l, 0, sizeof(l));
	snprintf(l.name, sizeof(l.name), "%s", lr.name);
	l.uid = lr.uid;
	l.gid = lr.gid;
	child_send(&hz, MSG_HESIOD_PUT, &l, sizeof(l), -1);
}

void
hesiod_locker_removed(const char *name)
{
	struct hesiod_locker l;

	if (hz.pid <= 0 || !publishing())
		return;
	memset(&l, 0, sizeof(l));
	snprintf(l.name, sizeof(l.name), "%s", name);
	child_send(&hz, MSG_HESIOD_DEL, &l, sizeof(l), -1);
}

/* ------------------------------------------------------------ from it */

const char *
hesiod_master_msg(int type, const void *buf, size_t len)
{
	const struct msg_hesiod_status *s = buf;

	if (type != MSG_HESIOD_STATUS || len != sizeof(*s))
		return "not a message of the hesiod role's";
	if (memchr(s->why, '\0', sizeof(s->why)) == NULL || !str_is_printable(s->why))
		return "a status whose text is not a printable string";
	last = *s;
	return NULL;
}

int
hesiod_last(struct msg_hesiod_status *out)
{
	*out = last;
	return last.at != 0;
}
