/*
 * ctl_limits.c: per-locker limits at the control socket: `locker quota`
 * and `locker limit` set them (and apply them at once to what runs), and
 * `locker info` shows each with what the locker uses of it.  Which keys
 * are limits and their defaults are config.c's table; this file only
 * stores, applies and reports.
 */
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "quota.h"
#include "maillog.h"

/* ------------------------------------------------------------ limits */

/* Bytes of a locker's error logs (logd's, rotated ones included), by their size. */
static int64_t
errlog_bytes(const char *name)
{
	char		path[PATH_MAX];
	struct stat	st;
	int64_t		total = 0;
	int		g;

	for (g = 0; g <= LOG_GENERATIONS; g++) {
		snprintf(path, sizeof(path), g ? "%s/lockers/%s/error.log.%d" :
		    "%s/lockers/%s/error.log", M->conf.logs, name, g);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	return total;
}

/* What the locker uses of the limit named key now, or -1. */
static int64_t
limit_use(const struct locker_rec *lr, const char *key, const struct config *lc)
{
	int64_t	mem, procs, cpu, used, limit;

	if (strcmp(key, "disk-limit") == 0) {
		quota_usage(lc, lr->name, &used, &limit);
		return used;
	}
	if (strcmp(key, "log-rate") == 0) {	/* bytes dropped since lockerd started */
		struct stats_total t;

		stats_locker(lr->name, &t);
		return (int64_t)t.log_dropped;
	}
	if (strcmp(key, "log-size") == 0)
		return errlog_bytes(lr->name);
	if (strcmp(key, "mail-per-hour") == 0)	/* messages of the last hour (maillog.c) */
		return maillog_count_since(M->dir, lr->uid, (int64_t)time(NULL) - 3600);
	cgroup_usage(lr->name, lr->uid, &mem, &procs, &cpu);
	if (strcmp(key, "memory-limit") == 0)
		return mem;
	if (strcmp(key, "process-limit") == 0)
		return procs;
	if (strcmp(key, "cpu-shares") == 0)
		return cpu;
	return -1;
}

/* disk-limit's use is files + databases: each shown apart (sql_limit.c). */
static void
disk_parts(const struct locker_rec *lr, struct ctl_limit *l)
{
	uint64_t	db;
	int		cut;

	l->files = l->use;
	l->databases = -1;
	if (sql_limit_of(lr->name, &db, &cut) == -1)
		return;
	l->databases = (int64_t)db;
	l->sql_cut = (uint32_t)cut;
	if (l->use >= 0)
		l->use += (int64_t)db;
	else
		l->use = (int64_t)db;
}

/* `locker info`, to root and admins: each limit, whose it is, and its use. */
void
send_limits(struct ctl_client *c, const struct locker_rec *lr)
{
	const struct config	*lc = locker_conf(lr->name, lr->uid);
	const uint64_t		*own = locker_own(lr->name, lr->uid);
	struct ctl_limit	 l;
	int			 i;

	for (i = 0; i < LIMIT_N; i++) {
		memset(&l, 0, sizeof(l));
		snprintf(l.key, sizeof(l.key), "%s", config_limit_name((enum limit)i));
		l.value = config_limit_get(lc, (enum limit)i);
		l.is_override = own[i] != LIMIT_DEFAULT;
		l.use = limit_use(lr, l.key, lc);
		if (i == LIMIT_DISK)
			disk_parts(lr, &l);
		reply(c, MSG_CTL_LIMIT, &l, sizeof(l));
	}
}

/* The request's packed arguments: exactly n of them, in out. */
static int
limit_args(const struct ctl_request *r, const char **out, uint32_t n)
{
	size_t		off = 0;
	uint32_t	i;

	if (r->argc != n)
		return -1;
	for (i = 0; i < n; i++) {
		const char *nul = memchr(r->argv + off, '\0', sizeof(r->argv) - off);

		if (nul == NULL || !str_is_printable(r->argv + off))
			return -1;
		out[i] = r->argv + off;
		off = (size_t)(nul - r->argv) + 1;
		if (off >= sizeof(r->argv) && i + 1 < n)
			return -1;
	}
	return 0;
}

/* A running locker gets its new limits at once where the kernel allows
 * (also for a change another node made: dir_feed.c). */
void
limit_apply_live(const struct locker_rec *lr)
{
	struct child	*w;
	int		 running = 0;

	for (w = M->workers; w != NULL; w = w->next)
		if (strcmp(w->locker, lr->name) == 0 && w->pid > 0) {
			running = 1;
			if (w->role == ROLE_WORKER)
				worker_send_config(w);
		}
	if (running)
		sandbox_prepare(locker_conf(lr->name, lr->uid), lr->name, lr->uid);
	fronts_send_limits(lr->name);
	logd_send_limits(lr->name);
	acme_names_push();	/* acme-names-per-week: its waiting names, again */
}

/* locker quota NAME SIZE|none|default, locker limit NAME KEY VALUE|none|default */
void
do_limit(struct ctl_client *c)
{
	struct locker_rec	 lr;
	const char		*a[2], *key, *val;
	char			 err[PATH_MAX + 200];
	uint64_t		 v = 0;
	int			 dflt, later;

	if (limit_args(&c->req, a, c->req.verb == CTL_QUOTA ? 1 : 2) == -1) {
		done(c, 2, "malformed request");
		return;
	}
	key = c->req.verb == CTL_QUOTA ? "disk-limit" : a[0];
	val = c->req.verb == CTL_QUOTA ? a[0] : a[1];
	if (dir_locker_get(M->dir, c->req.name, &lr) != 1) {
		done(c, 1, "no locker named \"%s\"", c->req.name);
		return;
	}
	if (config_limit_parse(key, val, &v, err, sizeof(err)) == -1) {
		done(c, 2, "%s", err);
		return;
	}
	dflt = v == LIMIT_DEFAULT;
	if (strcmp(key, "disk-limit") == 0) {
		if (M->conf.disk_quota == DISK_QUOTA_NONE) {
			done(c, 1, "no disk quotas here: lockerd's configuration has "
			    "disk-quota none");
			return;
		}
		if (dflt)
			v = M->conf.disk_limit;
		if ((later = quota_set(&M->conf, lr.name, v, err, sizeof(err))) == -1) {
			done(c, 1, "%s", err);
			return;
		}
		if (later == QUOTA_LATER)
			text(c, err);
	}
	if (dir_limit_set(M->dir, lr.name, key, dflt ? -1 : (int64_t)v, err,
	    sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	locker_conf_forget();
	v = config_limit_get(locker_conf(lr.name, lr.uid), (enum limit)config_limit_key(key));
	log_info("limit: %s of %s = %llu%s (by uid %u)", key, lr.name, (unsigned long long)v,
	    dflt ? " (the default)" : "", (unsigned)c->uid);
	if (strcmp(key, "disk-limit") != 0)
		limit_apply_live(&lr);
	done(c, 0, NULL);
}
