/*
 * locker.c: the command-line tool.  It speaks the master's own message
 * format over the control socket; the master decides what the caller may
 * do from the socket's peer credentials.  No setuid anywhere.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "mail.h"
#include "cron.h"
#include "verbs.h"
#include "hesiod.h"
#include "cli_app.h"
#include "sql.h"

static int		 json;
static struct config	 conf;

static __attribute__((noreturn)) void
usage(void)
{
	const struct verb *v;

	fprintf(stderr, "usage: locker [-c file] [--json] command [arguments]\n\n"
	    "commands:\n");
	for (v = verbs; v->name != NULL; v++)
		fprintf(stderr, "  %-13s %-27s %s\n", v->name, v->args, v->help);
	fprintf(stderr, "\n  -c file  lockerd's configuration (default " DEFAULT_CONFIG ")\n"
	    "  --json   machine-readable output\n"
	    "  --verbs  the commands, one a line: name, who may run it, arguments\n\n"
	    "Exit status: 0 done; 1 failed; 2 usage; 77 permission denied; 75 lockerd\n"
	    "busy (too many of your connections open, or of your changes a minute);\n"
	    "su and run: the command's.\n");
	exit(2);
}

/* The table itself, for tests and scripts: each verb, who may run it (and
 * how the master finds the locker it is about, and which of its options
 * are root's), and its arguments. */
static __attribute__((noreturn)) void
list_verbs(void)
{
	const struct verb	*v;
	uint32_t		 f;

	for (v = verbs; v->name != NULL; v++) {
		printf("%s\t%s%s%s", v->name, verb_who_name(v->who),
		    (v->flags & VERB_BY_HOST) ? ",by-host" : "",
		    (v->flags & VERB_ANY_ALL) ? ",any-without-name" : "");
		for (f = 1; f != 0; f <<= 1)
			if ((v->root_flags & f) && verb_flag_name(f) != NULL)
				printf(",root:%s", verb_flag_name(f));
		printf("\t%s\n", v->args);
	}
	exit(0);
}

/* A JSON string of s; cli_cert.c prints with it too. */
void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* A time as the CLI prints it (UTC, ISO 8601), "-" for none; cli_cert.c and
 * cli_cron.c print with it too. */
void
cli_when(char *out, size_t outsz, int64_t t)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0) {
		snprintf(out, outsz, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
connect_master(void)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", conf.state, CONTROL_SOCKET);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1) {
		perror("locker: socket");
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "locker: cannot reach lockerd at %s: %s (is it running?)\n",
		    sun.sun_path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* ------------------------------------------------------------ output */

struct out {
	enum ctl_verb	verb;
	int		n;		/* records printed so far */
	int		info_vhosts;	/* info: vhosts follow the locker */
	int		nvhosts;
	int		nadmins;
	int		nprocs;
	int		nlimits;
	int		nstats;
	int		nnodes;
	int		naudit;
	int		ncerts;
	int		nmail;	/* `mail status`'s rows: its totals, then messages */
	int		logfd;		/* logs: the descriptor lockerd sent, or -1 */
	int		quiet_busy;	/* a "busy" refusal is not printed: we try again */
	int		busy;		/* ... and this was one */
	int		got_log;	/* logs: lockerd answered (with or without one) */
	int		all;		/* upgrade --all: a report follows */
};

static void
print_locker(struct out *o, const struct ctl_locker *l)
{
	char		home[PATH_MAX + LOCKER_NAME_MAX + 2], created[32];
	time_t		t = (time_t)l->created;
	struct tm	tm;

	snprintf(home, sizeof(home), "%s/%s", conf.lockers, l->name);
	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		if (o->verb == CTL_LIST)
			printf("%s\n  ", o->n ? "," : "[");
		printf("{\"name\":");
		json_str(l->name);
		printf(",\"uid\":%u,\"gid\":%u,\"home\":", l->uid, l->gid);
		json_str(home);
		printf(",\"created\":\"%s\",\"worker_pid\":%d,\"vhosts\":", created,
		    l->worker_pid);
		if (o->verb == CTL_INFO) {
			printf("[");
			o->info_vhosts = 1;
		} else {
			printf("%u}", l->nvhosts);
			if (o->verb != CTL_LIST)
				printf("\n");
		}
	} else if (o->verb == CTL_LIST) {
		if (o->n == 0)
			printf("%-24s %8s %8s  %s\n", "NAME", "UID", "WORKER", "HOME");
		printf("%-24s %8u %8s  %s\n", l->name, l->uid,
		    l->worker_pid ? "running" : "-", home);
	} else if (o->verb == CTL_SIGNUP) {
		printf("signed up %s: uid %u, gid %u, home %s\n", l->name, l->uid, l->gid, home);
	} else {
		printf("name:    %s\nuid:     %u\ngid:     %u\nhome:    %s\ncreated: %s\n",
		    l->name, l->uid, l->gid, home, created);
		if (l->worker_pid)
			printf("worker:  running (pid %d)\n", l->worker_pid);
		else
			printf("worker:  not running\n");
		printf("web:     http://%s.%s/  http://%s/~%s/\n", l->name, conf.domain,
		    conf.domain, l->name);
		o->info_vhosts = 1;
	}
	o->n++;
}

static void
print_vhost(struct out *o, const struct ctl_vhost *v, int first)
{
	if (json) {
		if (o->verb == CTL_VHOST_LIST)
			printf("%s\n  ", first ? "[" : ",");
		else if (!first)
			printf(",");
		printf("{\"host\":");
		json_str(v->host);
		printf(",\"locker\":");
		json_str(v->locker);
		printf(",\"path\":");
		json_str(v->subdir);
		printf(",\"https_only\":%s,\"https\":\"%s\"}", v->https_only ? "true" : "false",
		    v->https == ROUTE_HTTPS_ONLY ? "only" : v->https == ROUTE_HTTPS_PLAIN_OK ?
		    "plain-ok" : "default");
	} else if (o->verb == CTL_VHOST_LIST) {
		if (first)
			printf("%-40s %-24s %s\n", "HOST", "LOCKER", "PATH");
		printf("%-40s %-24s /%s%s\n", v->host, v->locker, v->subdir,
		    v->https_only ? "  (https-only)" : "");
	} else
		printf("vhost:   %s://%s/ -> web_scripts/%s\n", v->https_only ? "https" : "http",
		    v->host, v->subdir);
}

static void
print_admin(struct out *o, const struct ctl_admin *a)
{
	char		added[32];
	time_t		t = (time_t)a->added;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(added, sizeof(added), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		if (o->verb == CTL_INFO)
			printf(o->nadmins ? "," : "],\"admins\":[");
		else
			printf("%s\n  ", o->nadmins ? "," : "[");
		printf("{\"locker\":");
		json_str(a->locker);
		printf(",\"user\":");
		json_str(a->user);
		printf(",\"uid\":%u,\"added\":\"%s\"}", a->uid, added);
	} else if (o->verb == CTL_INFO)
		printf("admin:   %s (uid %u)\n", a->user[0] ? a->user : "?", a->uid);
	else {
		if (o->nadmins == 0)
			printf("%-24s %-20s %8s  %s\n", "LOCKER", "USER", "UID", "ADDED");
		printf("%-24s %-20s %8u  %s\n", a->locker, a->user[0] ? a->user : "?",
		    a->uid, added);
	}
	o->nadmins++;
}

static void
print_proc(struct out *o, const struct ctl_proc *p)
{
	char		up[32];
	uint64_t	s = p->uptime_ms / 1000;

	if (json) {
		printf("%s\n  {\"pid\":%d,\"role\":", o->nprocs ? "," : "{\"processes\": [",
		    p->pid);
		json_str(p->role);
		printf(",\"command\":");
		json_str(p->comm);
		printf(",\"locker\":");
		json_str(p->locker);
		printf(",\"uid\":%u,\"uptime_ms\":%llu,\"restarts\":%u,\"rss_kb\":%llu,"
		    "\"cpu_ms\":%llu", p->uid, (unsigned long long)p->uptime_ms, p->restarts,
		    (unsigned long long)p->rss_kb, (unsigned long long)p->cpu_ms);
		if (strcmp(p->role, "master") == 0 || strcmp(p->role, "front") == 0)
			printf(",\"requests\":%llu,\"errors_4xx\":%llu,\"errors_5xx\":%llu",
			    (unsigned long long)p->requests, (unsigned long long)p->errors_4xx,
			    (unsigned long long)p->errors_5xx);
		printf("}");
	} else {
		if (o->nprocs == 0)
			printf("%7s %-8s %-16s %-20s %10s %8s %9s %9s %10s\n", "PID", "ROLE",
			    "COMMAND", "LOCKER", "UPTIME", "RESTARTS", "RSS", "CPU", "REQUESTS");
		if (s >= 86400)
			snprintf(up, sizeof(up), "%llud%02lluh", (unsigned long long)s / 86400,
			    (unsigned long long)s % 86400 / 3600);
		else
			snprintf(up, sizeof(up), "%02llu:%02llu:%02llu",
			    (unsigned long long)s / 3600, (unsigned long long)s % 3600 / 60,
			    (unsigned long long)s % 60);
		printf("%7d %-8s %-16s %-20s %10s %8u %7lluMB %8.2fs", p->pid, p->role,
		    p->comm, p->locker[0] ? p->locker : "-", up, p->restarts,
		    (unsigned long long)(p->rss_kb + 512) / 1024, (double)p->cpu_ms / 1000);
		if (strcmp(p->role, "master") == 0 || strcmp(p->role, "front") == 0)
			printf(" %10llu\n", (unsigned long long)p->requests);
		else
			printf(" %10s\n", "-");
	}
	o->nprocs++;
}

/* 1536 bytes as "1.5K": sizes the way the configuration takes them. */
static void
human(char *out, size_t outsz, uint64_t v)
{
	static const char units[] = "KMGT";
	double	d = (double)v;
	int	u = -1;

	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(out, outsz, "%llu", (unsigned long long)v);
	else
		snprintf(out, outsz, "%.*f%c", d < 10 && d != (uint64_t)d ? 1 : 0, d, units[u]);
}

/* 'b' for a limit in bytes, 's' in seconds, 0 for a count (config.c's table). */
static char
limit_unit(const char *key)
{
	int k = config_limit_key(key);

	return k < 0 ? 0 : config_limit_unit((enum limit)k);
}

/* disk-limit's use, as files and databases (", 1.2 MiB files + 3.4 MiB ..."). */
static const char *
disk_parts(const struct ctl_limit *l)
{
	static char	out[160];
	char		f[32], d[32];

	out[0] = '\0';
	if (strcmp(l->key, "disk-limit") != 0 || l->databases < 0)
		return out;
	if (l->files >= 0)
		human(f, sizeof(f), (uint64_t)l->files);
	else
		snprintf(f, sizeof(f), "?");
	human(d, sizeof(d), (uint64_t)l->databases);
	snprintf(out, sizeof(out), ": %s files + %s databases%s", f, d,
	    l->sql_cut ? "; over: its database writes are withdrawn" : "");
	return out;
}

static void
print_limit(struct out *o, const struct ctl_limit *l)
{
	char	value[32], use[48];

	if (json) {
		printf(o->nlimits ? "," : "],\"limits\":[");
		printf("{\"key\":");
		json_str(l->key);
		printf(",\"value\":%llu,\"default\":%s,\"use\":%lld",
		    (unsigned long long)l->value, l->is_override ? "false" : "true",
		    (long long)l->use);
		if (strcmp(l->key, "disk-limit") == 0)
			printf(",\"files\":%lld,\"databases\":%lld,\"over\":%s",
			    (long long)l->files, (long long)l->databases,
			    l->sql_cut ? "true" : "false");
		printf("}");
		o->nlimits++;
		return;
	}
	if (l->value == 0 && strcmp(l->key, "cpu-shares") != 0)
		snprintf(value, sizeof(value), "none");
	else if (limit_unit(l->key) == 'b')
		human(value, sizeof(value), l->value);
	else
		snprintf(value, sizeof(value), "%llu%s", (unsigned long long)l->value,
		    limit_unit(l->key) == 's' ? "s" : "");
	use[0] = '\0';
	if (l->use >= 0 && (strcmp(l->key, "log-rate") == 0 || strcmp(l->key, "log-size") == 0)) {
		human(use + 2, sizeof(use) - 2, (uint64_t)l->use);
		memcpy(use, ", ", 2);
		snprintf(use + strlen(use), sizeof(use) - strlen(use), "%s",
		    l->key[4] == 'r' ? " dropped" : " in its error logs");
	} else if (l->use >= 0 && strcmp(l->key, "cpu-shares") == 0)
		snprintf(use, sizeof(use), ", %.2fs CPU used", (double)l->use / 1000);
	else if (l->use >= 0 && limit_unit(l->key) == 'b') {
		human(use + 2, sizeof(use) - 2, (uint64_t)l->use);
		memcpy(use, ", ", 2);
		snprintf(use + strlen(use), sizeof(use) - strlen(use), " used");
	} else if (l->use >= 0)
		snprintf(use, sizeof(use), ", %lld used", (long long)l->use);
	printf("limit:   %-17s %s (%s%s%s)\n", l->key, value,
	    l->is_override ? "its own" : "default", use, disk_parts(l));
	o->nlimits++;
}

/* `status --json` is {"processes": [...], "lockers": [...]}. */
static void
print_stats(struct out *o, const struct ctl_stats *st)
{
	if (json) {
		if (o->nstats == 0)
			printf("%s\"lockers\": [", o->nprocs ? "\n ],\n " : "{\"processes\": [], ");
		printf("%s\n  {\"name\":", o->nstats ? "," : "");
		json_str(st->locker);
		printf(",\"requests\":%llu,\"errors_4xx\":%llu,\"errors_5xx\":%llu}",
		    (unsigned long long)st->requests, (unsigned long long)st->errors_4xx,
		    (unsigned long long)st->errors_5xx);
	} else {
		if (o->nstats == 0)
			printf("%s%-24s %12s %10s %10s\n", o->nprocs ? "\n" : "", "LOCKER",
			    "REQUESTS", "4XX", "5XX");
		printf("%-24s %12llu %10llu %10llu\n", st->locker,
		    (unsigned long long)st->requests, (unsigned long long)st->errors_4xx,
		    (unsigned long long)st->errors_5xx);
	}
	o->nstats++;
}

static void
print_audit(struct out *o, const struct ctl_audit *a)
{
	char		at[32], who[48];
	time_t		t = (time_t)a->at;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		printf("%s\n  {\"id\":%lld,\"at\":\"%s\",\"uid\":%u,\"user\":",
		    o->naudit ? "," : "[", (long long)a->id, at, a->uid);
		json_str(a->user);
		printf(",\"action\":");
		json_str(a->action);
		printf(",\"locker\":");
		json_str(a->locker);
		printf(",\"detail\":");
		json_str(a->detail);
		printf("}");
	} else {
		if (o->naudit == 0)
			printf("%-20s %-16s %-13s %-20s %s\n", "WHEN", "WHO", "ACTION", "LOCKER",
			    "DETAIL");
		if (a->user[0])
			snprintf(who, sizeof(who), "%s", a->user);
		else
			snprintf(who, sizeof(who), "uid %u", a->uid);
		printf("%-20s %-16s %-13s %-20s %s\n", at, who, a->action,
		    a->locker[0] ? a->locker : "-", a->detail);
	}
	o->naudit++;
}

/* `sql list`'s rows; the file (or database) another `sql` verb made. */
static void
print_sql(struct out *o, const struct ctl_sql *s)
{
	if (o->verb != CTL_SQL_LIST) {
		if (!json)
			return;		/* the line lockerd sends says it */
		printf("{\"locker\": ");
		json_str(s->locker);
		printf(", \"database\": ");
		json_str(s->db);
		printf(", \"file\": ");
		json_str(s->file);
		printf("}\n");
		return;
	}
	if (json) {
		printf("%s\n {\"locker\": ", o->n ? "," : "[");
		json_str(s->locker);
		printf(", \"database\": ");
		json_str(s->db);
		printf(", \"bytes\": %llu, \"tables\": %u, \"over\": %s}",
		    (unsigned long long)s->bytes, s->tables, s->over ? "true" : "false");
	} else {
		if (o->n == 0)
			printf("%-48s %14s %7s\n", "DATABASE", "BYTES", "TABLES");
		printf("%-48s %14llu %7u%s\n", s->db, (unsigned long long)s->bytes, s->tables,
		    s->over ? "  over its disk limit: writes withdrawn" : "");
	}
	o->n++;
}

static void
print_end(struct out *o)
{
	if (o->verb == CTL_CRON_LIST)
		cli_cron_end(json, o->n, o->verb);
	if (o->verb == CTL_APP_INSTALLS || (o->verb == CTL_APP_UPGRADE && o->all))
		cli_app_end(json, o->n);
	if (!json)
		return;
	if (o->verb == CTL_LIST)
		printf("%s]\n", o->n ? "\n" : "[");
	else if (o->verb == CTL_VHOST_LIST)
		printf("%s]\n", o->nvhosts ? "\n" : "[");
	else if (o->verb == CTL_ADMIN_LIST)
		printf("%s]\n", o->nadmins ? "\n" : "[");
	else if (o->verb == CTL_STATUS && o->nnodes > 0)
		printf("\n ]}\n");
	else if (o->verb == CTL_STATUS && o->nstats == 0 && o->nprocs == 0)
		printf("{\"processes\": [], \"lockers\": []}\n");
	else if (o->verb == CTL_STATUS && o->nstats == 0)
		printf("\n ],\n \"lockers\": []}\n");
	else if (o->verb == CTL_STATUS)
		printf("\n ]}\n");
	else if (o->verb == CTL_AUDIT)
		printf("%s]\n", o->naudit ? "\n" : "[");
	else if (o->verb == CTL_SQL_LIST)
		printf("%s]\n", o->n ? "\n" : "[");
	else if (o->verb == CTL_INFO && o->info_vhosts)
		printf("]}\n");
	else if (o->verb == CTL_CERT_LIST || o->verb == CTL_CERT_STATUS)
		cli_cert_end(json, o->ncerts);
	else if (o->verb == CTL_MAIL_STATUS)
		cli_mail_end(json, o->nmail > 1);
}

/*
 * One message from lockerd.  Returns -1 to go on, or the exit status the
 * CLI ends with (that of MSG_CTL_DONE, or 1 if lockerd went away).
 */
static int
reply_one(int fd, struct out *o)
{
	union {
		struct ctl_locker	l;
		struct ctl_vhost	v;
		struct ctl_admin	a;
		struct ctl_proc		p;
		struct ctl_log		g;
		struct ctl_limit	lim;
		struct ctl_stats	s;
		struct ctl_audit	u;
		struct ctl_cert		c;
		struct ctl_sql		q;
		struct ctl_mail		ml;
		struct ctl_cron		cr;
		struct ctl_app		ap;
		struct ctl_node		nd;
		struct ctl_done		d;
		char			text[MSG_MAX_PAYLOAD + 1];
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 pfd;

	/* msg_rules[]: only what lockerd may send a CLI, at its size. */
	n = msg_recv_checked(fd, MR_CLI, MR_MASTER, &type, &m, sizeof(m) - 1, &pfd, &why);
	if (n == MSG_BREACH) {
		msg_breach(MR_CLI, MR_MASTER, "", type, why);	/* MSG_ACT_EXIT */
		return 1;
	}
	if (type == MSG_CTL_HESIOD && pfd != -1) {
		if (cli_hesiod_copy(pfd) == -1)
			fprintf(stderr, "locker: cannot write the records out\n");
		close(pfd);
		pfd = -1;
	}
	if (pfd != -1 && !(type == MSG_CTL_LOG && o->verb == CTL_LOGS && o->logfd == -1)) {
		close(pfd);
		pfd = -1;
	}
	if (n == -1 || type == MSG_NONE) {
		fprintf(stderr, "locker: lockerd closed the connection\n");
		return 1;
	}
	switch (type) {
	case MSG_CTL_LOCKER:
		print_locker(o, &m.l);
		break;
	case MSG_CTL_VHOST:
		print_vhost(o, &m.v, o->nvhosts++ == 0);
		break;
	case MSG_CTL_ADMIN:
		m.a.locker[sizeof(m.a.locker) - 1] = m.a.user[sizeof(m.a.user) - 1] = '\0';
		print_admin(o, &m.a);
		break;
	case MSG_CTL_PROC:
		m.p.role[sizeof(m.p.role) - 1] = m.p.comm[sizeof(m.p.comm) - 1] = '\0';
		m.p.locker[sizeof(m.p.locker) - 1] = '\0';
		print_proc(o, &m.p);
		break;
	case MSG_CTL_LIMIT:
		if (o->verb == CTL_INFO) {
			m.lim.key[sizeof(m.lim.key) - 1] = '\0';
			print_limit(o, &m.lim);
		}
		break;
	case MSG_CTL_STATS:
		m.s.locker[sizeof(m.s.locker) - 1] = '\0';
		print_stats(o, &m.s);
		break;
	case MSG_CTL_AUDIT:
		m.u.user[sizeof(m.u.user) - 1] = m.u.action[sizeof(m.u.action) - 1] = '\0';
		m.u.locker[sizeof(m.u.locker) - 1] = '\0';
		m.u.detail[sizeof(m.u.detail) - 1] = '\0';
		print_audit(o, &m.u);
		break;
	case MSG_CTL_CERT:
		m.c.host[sizeof(m.c.host) - 1] = m.c.locker[sizeof(m.c.locker) - 1] = '\0';
		m.c.source[sizeof(m.c.source) - 1] = m.c.state[sizeof(m.c.state) - 1] = '\0';
		m.c.issuer[sizeof(m.c.issuer) - 1] = m.c.error[sizeof(m.c.error) - 1] = '\0';
		cli_print_cert(&m.c, json, o->ncerts++ == 0);
		break;
	case MSG_CTL_SQL:
		m.q.locker[sizeof(m.q.locker) - 1] = m.q.db[sizeof(m.q.db) - 1] = '\0';
		m.q.file[sizeof(m.q.file) - 1] = '\0';
		print_sql(o, &m.q);
		break;
	case MSG_CTL_MAIL:
		m.ml.locker[sizeof(m.ml.locker) - 1] = m.ml.status[sizeof(m.ml.status) - 1] = '\0';
		m.ml.rcpts[sizeof(m.ml.rcpts) - 1] = m.ml.text[sizeof(m.ml.text) - 1] = '\0';
		cli_print_mail(&m.ml, json, o->nmail++ == 1);
		break;
	case MSG_CTL_CRON:
		m.cr.locker[sizeof(m.cr.locker) - 1] = m.cr.state[sizeof(m.cr.state) - 1] = '\0';
		m.cr.error[sizeof(m.cr.error) - 1] = m.cr.lease[sizeof(m.cr.lease) - 1] = '\0';
		m.cr.spec[sizeof(m.cr.spec) - 1] = m.cr.cmd[sizeof(m.cr.cmd) - 1] = '\0';
		cli_print_cron(&m.cr, json, o->n++ == 0);
		break;
	case MSG_CTL_APP:
		m.ap.locker[sizeof(m.ap.locker) - 1] = m.ap.app[sizeof(m.ap.app) - 1] = '\0';
		m.ap.path[sizeof(m.ap.path) - 1] = m.ap.version[sizeof(m.ap.version) - 1] = '\0';
		m.ap.available[sizeof(m.ap.available) - 1] = m.ap.url[sizeof(m.ap.url) - 1] = '\0';
		m.ap.state[sizeof(m.ap.state) - 1] = m.ap.result[sizeof(m.ap.result) - 1] = '\0';
		cli_print_app(&m.ap, json, o->n++ == 0);
		break;
	case MSG_CTL_NODE:
		m.nd.name[sizeof(m.nd.name) - 1] = m.nd.addr[sizeof(m.nd.addr) - 1] = '\0';
		m.nd.state[sizeof(m.nd.state) - 1] = '\0';
		cli_print_node(&m.nd, json, o->nnodes++ == 0, o->nprocs, o->nstats);
		break;
	case MSG_CTL_LOG:
		o->got_log = 1;
		if (pfd != -1)
			o->logfd = pfd;
		break;
	case MSG_CTL_TEXT:
		m.text[n] = '\0';
		if (json)
			fprintf(stderr, "%s\n", m.text);
		else
			printf("%s\n", m.text);
		break;
	case MSG_CTL_DONE:
		m.d.message[sizeof(m.d.message) - 1] = '\0';
		if (m.d.code == 75 && o->quiet_busy && strncmp(m.d.message, "busy:", 5) == 0) {
			o->busy = 1;
			return m.d.code;
		}
		/* A mass upgrade's report ends however its installs went. */
		if (m.d.code == 0 || (o->all && o->n > 0))
			print_end(o);
		if (m.d.message[0])
			fprintf(stderr, "locker: %s\n", m.d.message);
		return m.d.code;
	default:
		break;
	}
	return -1;
}

/* Read replies until MSG_CTL_DONE; returns the exit status it carries. */
static int
read_replies(int fd, struct out *o)
{
	int rc;

	fflush(stdout);
	while ((rc = reply_one(fd, o)) == -1)
		;
	fflush(stdout);
	return rc;
}

static int
copy_arg(char *dst, size_t dstsz, const char *src, const char *what)
{
	if (strlen(src) >= dstsz) {
		fprintf(stderr, "locker: %s too long: %s\n", what, src);
		exit(2);
	}
	snprintf(dst, dstsz, "%s", src);
	return 0;
}

/* ------------------------------------------------------------ su */

/*
 * `locker su` relays between the caller's descriptors and the ones it
 * passes to lockerd.  With a terminal, the caller's terminal is never
 * handed to the locker: we open a new pty, pass its slave (which becomes
 * the controlling terminal of the su session: job control, ^C, ^Z), put
 * our terminal in raw mode and copy bytes both ways, and window size
 * changes follow.  A locker's process that outlives the session keeps only
 * a dead pty, and can never type into the caller's own shell (TIOCSTI).
 * Without a terminal, files and pipes are passed as they are, and an
 * output that is a terminal is relayed through a pipe for the same reason.
 */
struct chan {
	int	from, to;
	int	out;		/* towards the user: drained after the end */
	int	eof;		/* nothing more will come from `from` */
	size_t	len, off;
	char	buf[16384];
};

static struct termios	saved_tty;
static int		tty_raw;
static volatile sig_atomic_t got_winch;

static void
tty_restore(void)
{
	if (tty_raw) {
		tcsetattr(0, TCSADRAIN, &saved_tty);
		tty_raw = 0;
	}
}

static void
on_fatal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

/* A descriptor to pass for fd k when it is not open at all. */
static int
fd_or_null(int k)
{
	if (fcntl(k, F_GETFD) != -1)
		return k;
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static int
su_open_pty(int *ptm, int *pts)
{
	char		name[128];
	struct winsize	ws;

	if ((*ptm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(*ptm) == -1 || unlockpt(*ptm) == -1 ||
	    ptsname_r(*ptm, name, sizeof(name)) != 0 ||
	    (*pts = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		perror("locker: pty");
		return -1;
	}
	/* The session starts with the caller's settings and window size; its
	 * output going to a file or pipe gets no \r added. */
	if (tcgetattr(0, &saved_tty) == 0) {
		struct termios t = saved_tty;

		if (!isatty(1))
			t.c_oflag &= ~(tcflag_t)OPOST;
		tcsetattr(*pts, TCSANOW, &t);
	}
	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(*pts, TIOCSWINSZ, &ws);
	return 0;
}

static void
tty_make_raw(void)
{
	struct termios		raw = saved_tty;
	struct sigaction	sa;
	const int		fatal[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSADRAIN, &raw) == 0)
		tty_raw = 1;
	atexit(tty_restore);
}

static int
do_su(int sock, struct ctl_request *req)
{
	struct out		 o = { .verb = CTL_SU, .logfd = -1 };
	struct chan		 ch[3];
	struct pollfd		 pf[8];
	struct sigaction	 sa;
	struct timespec		 drain = { 0, 200 * 1000 * 1000 };
	sigset_t		 block, none;
	const char		*term = getenv("TERM");
	int			 pass[3], made[3] = { -1, -1, -1 }, who[8];
	int			 nch = 0, ptm = -1, pts = -1, code = -1, i, k, np;

	memset(ch, 0, sizeof(ch));
	signal(SIGPIPE, SIG_IGN);
	if (isatty(0)) {
		if (su_open_pty(&ptm, &pts) == -1)
			return 1;
		pass[0] = pass[1] = pass[2] = made[0] = pts;
		req->flags |= CTL_F_TTY;
		if (term != NULL && strlen(term) < sizeof(req->term) && str_is_printable(term))
			snprintf(req->term, sizeof(req->term), "%s", term);
		set_nonblock(ptm);
		ch[nch++] = (struct chan){ .from = 0, .to = ptm };
		ch[nch++] = (struct chan){ .from = ptm, .to = 1, .out = 1 };
	} else {
		for (k = 0; k < 3; k++) {
			int p[2];

			if (k == 0 || !isatty(k) || pipe2(p, O_CLOEXEC) == -1) {
				pass[k] = fd_or_null(k);
				if (pass[k] != k)
					made[k] = pass[k];
				continue;
			}
			pass[k] = made[k] = p[1];
			set_nonblock(p[0]);
			ch[nch++] = (struct chan){ .from = p[0], .to = k, .out = 1 };
		}
	}
	/* If lockerd refused at once, even before our request (busy), its
	 * answer is waiting: read it below. */
	if (msg_send(sock, MSG_CTL_REQUEST, req, sizeof(*req), -1) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		perror("locker: send");
		return 1;
	}
	for (k = 0; k < 3; k++)
		if (msg_send(sock, MSG_CTL_STDIO, NULL, 0, pass[k]) == -1)
			break;
	for (k = 0; k < 3; k++)
		if (made[k] != -1 && (k == 0 || made[k] != made[k - 1]))
			close(made[k]);
	if (ptm != -1) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_winch;
		sigaction(SIGWINCH, &sa, NULL);
		tty_make_raw();
	}
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&none);

	for (;;) {
		np = 0;
		if (code == -1) {
			pf[np] = (struct pollfd){ .fd = sock, .events = POLLIN };
			who[np++] = -1;
		}
		for (i = 0; i < nch; i++) {
			struct chan *c = &ch[i];

			if (code != -1 && !c->out)
				continue;	/* the end: no more input */
			if (c->len > 0)
				pf[np] = (struct pollfd){ .fd = c->to, .events = POLLOUT };
			else if (!c->eof)
				pf[np] = (struct pollfd){ .fd = c->from, .events = POLLIN };
			else
				continue;
			who[np++] = i;
		}
		if (np == 0)
			break;
		k = ppoll(pf, (nfds_t)np, code == -1 ? NULL : &drain, &none);
		if (k == -1 && errno == EINTR) {
			struct winsize ws;

			if (got_winch && ptm != -1 && ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(ptm, TIOCSWINSZ, &ws);
			got_winch = 0;
			continue;
		}
		if (k <= 0)
			break;		/* after the end, quiet for a while: done */
		for (i = 0; i < np; i++) {
			struct chan	*c;
			ssize_t		 n;

			if (pf[i].revents == 0)
				continue;
			if (who[i] == -1) {
				code = reply_one(sock, &o);
				continue;
			}
			c = &ch[who[i]];
			if (c->len == 0) {
				n = read(c->from, c->buf, sizeof(c->buf));
				if (n > 0) {
					c->len = (size_t)n;
					c->off = 0;
				} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
					c->eof = 1;	/* EIO: the pty's last user is gone */
				continue;
			}
			n = write(c->to, c->buf + c->off, c->len);
			if (n > 0) {
				c->off += (size_t)n;
				c->len -= (size_t)n;
			} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
				c->len = 0;	/* nobody reads it: drop */
				c->eof = 1;
			}
		}
	}
	if (code == -1)
		code = read_replies(sock, &o);
	tty_restore();
	return code;
}

/* ------------------------------------------------------------ logs */

/*
 * One request and its replies.  lockerd lets each user hold only so many
 * connections at once (a script running many `locker` calls in parallel,
 * say); when it says it is busy, wait a little and ask again, for up to
 * about ten seconds.
 */
static int
request(const struct ctl_request *req, struct out *o)
{
	struct timespec	 ts;
	int		 fd, rc, i, attempt;

	for (attempt = 0; ; attempt++) {
		fd = connect_master();
		/* If lockerd refused at once, even before our request (busy), its
		 * answer is waiting: read it. */
		if (msg_send(fd, MSG_CTL_REQUEST, req, sizeof(*req), -1) == -1 &&
		    errno != EPIPE && errno != ECONNRESET) {
			perror("locker: send");
			exit(1);
		}
		/* su sends its own (do_su()): a pty's end when it has one. */
		if (verb_by_id(req->verb) != NULL && (verb_by_id(req->verb)->flags & VERB_STDIO))
			for (i = 0; i < 3; i++)
				if (msg_send(fd, MSG_CTL_STDIO, NULL, 0, i) == -1)
					break;
		o->quiet_busy = attempt < 40;
		o->busy = 0;
		rc = read_replies(fd, o);
		close(fd);
		if (!o->busy)
			return rc;
		ts.tv_sec = 0;
		ts.tv_nsec = (attempt < 9 ? attempt + 1 : 10) * 25 * 1000 * 1000L;
		nanosleep(&ts, NULL);
	}
}

static int
log_request(const struct ctl_request *req, int *code)
{
	struct out	o = { .verb = CTL_LOGS, .logfd = -1 };

	*code = request(req, &o);
	if (*code != 0 && o.logfd != -1) {
		close(o.logfd);
		o.logfd = -1;
	}
	return o.logfd;
}

/* Copy what is there; 0 at its end, -1 when our reader is gone. */
static int
log_copy(int fd)
{
	char	buf[65536];
	ssize_t	n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(1, buf, (size_t)n) == -1)
			return -1;
	return 0;
}

static int
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}

/*
 * lockerd opens the log (the log directory is not ours to read) and hands
 * us the descriptor; we read it, and with --follow keep reading as it
 * grows.  Every second we ask again, so a rotated log is followed to its
 * new file once the old one is read to its end.
 */
static int
do_logs(struct ctl_request *req, int follow)
{
	struct pollfd	pf = { .fd = 1, .events = 0 };
	int		fd, nfd, code, idle = 0;

	signal(SIGPIPE, SIG_IGN);
	fd = log_request(req, &code);
	if (code != 0)
		return code;
	if (fd == -1 && !follow) {
		fprintf(stderr, "locker: %s has no %s log yet\n", req->name,
		    req->verb == CTL_CRON_LOG ? "cron" : (req->flags & CTL_F_ERROR) ? "error" :
		    "access");
		return 0;
	}
	for (;;) {
		if (fd != -1 && log_copy(fd) == -1)
			return 0;
		if (!follow)
			return 0;
		/* Wait a little, and leave when whoever reads our output has gone. */
		if (poll(&pf, 1, 250) > 0 && (pf.revents & (POLLERR | POLLHUP)))
			return 0;
		if (++idle < 4)
			continue;
		idle = 0;
		nfd = log_request(req, &code);
		if (code != 0)
			return code;
		if (nfd == -1)
			continue;
		if (fd != -1 && same_file(fd, nfd)) {
			close(nfd);
			continue;
		}
		if (fd != -1) {
			if (log_copy(fd) == -1)
				return 0;
			close(fd);
		}
		fd = nfd;
	}
}

/* ------------------------------------------------------------ main */

static int
usage_of(const struct verb *v)
{
	fprintf(stderr, "locker: usage: locker %s %s\n", v->name, v->args);
	return 2;
}

/* Pack words[0..n) NUL-separated into req->argv. */
static int
pack_argv(struct ctl_request *req, char **words, int n)
{
	size_t	off = 0;
	int	k;

	if (n > CTL_MAX_ARGV) {
		fprintf(stderr, "locker: command too long\n");
		return -1;
	}
	for (k = 0; k < n; k++) {
		size_t l = strlen(words[k]) + 1;

		if (off + l > sizeof(req->argv)) {
			fprintf(stderr, "locker: command too long\n");
			return -1;
		}
		memcpy(req->argv + off, words[k], l);
		off += l;
	}
	req->argc = (uint32_t)n;
	return 0;
}

/*
 * The positional words into the request, each where the verb's usage line
 * says (verb_args()): NAME, HOST, USER into their fields, any other word,
 * and the command after a "--" (cmd, ncmd; NULL if none), into its argv.
 */
static int
place_words(struct ctl_request *req, const struct verb_args *va, char **words, int n,
    char **cmd, int ncmd)
{
	char	*argv[CTL_MAX_ARGV + 4];
	int	 k, nargv = 0;

	for (k = 0; k < n; k++)
		switch (va->word[k]) {
		case VW_NAME:
			copy_arg(req->name, sizeof(req->name), words[k], "name");
			break;
		case VW_HOST:
			copy_arg(req->host, sizeof(req->host), words[k], "host name");
			break;
		case VW_USER:
			copy_arg(req->user, sizeof(req->user), words[k], "user name");
			break;
		case VW_ARGV:
			argv[nargv++] = words[k];
			break;
		}
	if (cmd == NULL)
		return nargv > 0 ? pack_argv(req, argv, nargv) : 0;
	return pack_argv(req, cmd, ncmd);
}

/* `sql` verbs' names through the one validator (sql.h) before lockerd
 * hears of them: a quote, backtick, %, space or _-trick is refused here. */
static int
sql_args_check(const struct ctl_request *req)
{
	char	full[SQL_DB_MAX + 1], err[256];

	if (req->verb < CTL_SQL_SIGNUP || req->verb > CTL_SQL_DUMP ||
	    (req->name[0] == '\0' && req->verb == CTL_SQL_LIST))
		return 0;
	if (!sql_word_ok(req->name, LOCKER_NAME_MAX)) {
		fprintf(stderr, "locker: account name \"%s\": only letters, digits, _ and -\n",
		    req->name);
		return -1;
	}
	if (req->argc == 1 && sql_db_name(req->name, req->argv, full, sizeof(full), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "locker: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char		*path = DEFAULT_CONFIG, *subdir = NULL, *group = NULL;
	const struct verb	*v;
	struct ctl_request	 req;
	struct out		 o = { .logfd = -1 };
	char			*pos[CTL_MAX_ARGV + 4], err[512];
	int			 npos = 0, purge = 0, errlog = 0, follow = 0, force = 0, i;
	int			 sync = 0;
	uint32_t		 https = 0;
	int			 dashdash = -1, n;
	struct verb_args	 va;
	struct cli_app_opts	 ao;

	memset(&ao, 0, sizeof(ao));
	for (i = 1; i < argc; i++) {
		if (dashdash == -1 && strcmp(argv[i], "--") == 0) {
			dashdash = npos;
			continue;
		}
		if (dashdash == -1 && argv[i][0] == '-' && argv[i][1] != '\0') {
			if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
				path = argv[++i];
			else if (strcmp(argv[i], "--json") == 0)
				json = 1;
			else if (strcmp(argv[i], "--purge") == 0)
				purge = 1;
			else if (strcmp(argv[i], "--force") == 0)
				force = 1;
			else if (strcmp(argv[i], "--https-only") == 0 && https == 0)
				https = CTL_F_HTTPS_ONLY;
			else if (strcmp(argv[i], "--no-https-only") == 0 && https == 0)
				https = CTL_F_PLAIN_OK;
			else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
				subdir = argv[++i];
			else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
				group = argv[++i];
			else if (strcmp(argv[i], "--error") == 0)
				errlog = 1;
			else if (strcmp(argv[i], "--sync") == 0)
				sync = 1;
			else if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
				follow = 1;
			else if ((n = cli_app_option(argc, argv, &i, &ao)) != 0) {
				if (n == -1)
					usage();
			} else if (strcmp(argv[i], "--verbs") == 0)
				list_verbs();
			else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
				usage();
			else {
				fprintf(stderr, "locker: unknown option %s\n", argv[i]);
				usage();
			}
			continue;
		}
		if (npos == (int)(sizeof(pos) / sizeof(pos[0])))
			usage();
		pos[npos++] = argv[i];
	}
	if (npos == 0)
		usage();

	/* Find the verb: one word, or two ("vhost add"). */
	for (v = verbs; v->name != NULL; v++) {
		char two[64];

		if (npos >= 2) {
			snprintf(two, sizeof(two), "%s %s", pos[0], pos[1]);
			if (strcmp(v->name, two) == 0)
				break;
		}
		if (strcmp(v->name, pos[0]) == 0)
			break;
	}
	if (v->name == NULL) {
		fprintf(stderr, "locker: unknown command \"%s\"\n", pos[0]);
		usage();
	}
	i = strchr(v->name, ' ') ? 2 : 1;	/* the first positional argument */
	n = (dashdash == -1 ? npos : dashdash) - i;	/* how many, before any "--" */
	if (((purge ? VOPT_PURGE : 0) | (force ? VOPT_FORCE : 0) | (subdir ? VOPT_PATH : 0) |
	    (group ? VOPT_GROUP : 0) | (errlog ? VOPT_ERROR : 0) |
	    (follow ? VOPT_FOLLOW : 0) | (https ? VOPT_HTTPS : 0) | (sync ? VOPT_SYNC : 0) |
	    cli_app_vopts(&ao)) &
	    ~v->opts)
		return usage_of(v);
	memset(&req, 0, sizeof(req));
	req.version = CTL_VERSION;
	req.verb = v->id;
	if (verb_args(v, &va) == -1 || (dashdash != -1 && va.dash == VERB_DASH_NO) ||
	    (dashdash == -1 && va.dash == VERB_DASH_MUST) || n < va.n - va.nopt || n > va.n ||
	    (dashdash != -1 && npos - dashdash < va.cmd_min))
		return usage_of(v);
	if (v->id == CTL_SIGNUP) {
		/* root names the locker; a user's own is named after their login. */
		if (group != NULL && n != 0)
			return usage_of(v);
		if (group == NULL && n == 0 && getuid() == 0) {
			fprintf(stderr, "locker: usage: locker signup NAME (as root, name "
			    "the locker)\n");
			return 2;
		}
		if (group != NULL) {
			copy_arg(req.name, sizeof(req.name), group, "name");
			req.flags |= CTL_F_GROUP;
		}
	}
	if (place_words(&req, &va, pos + i, n, dashdash == -1 ? NULL : pos + dashdash,
	    npos - dashdash) == -1)
		return 2;
	if (sql_args_check(&req) == -1)
		return 2;
	if (v->id == CTL_APP_INSTALL || v->id == CTL_APP_UPGRADE || v->id == CTL_APP_ROLLBACK) {
		if (cli_app_request(&req, &ao, json) == -1)
			return 2;
		o.all = (ao.flags & CTL_F_ALL) != 0;
	}
	if (subdir != NULL) {
		/* An install's path is checked as given (an absolute one is refused). */
		while (*subdir == '/' && !(v->id >= CTL_APP_INSTALL && v->id <= CTL_APP_ROLLBACK))
			subdir++;
		copy_arg(req.subdir, sizeof(req.subdir), subdir, "path");
	}
	if (purge)
		req.flags |= CTL_F_PURGE;
	if (force)
		req.flags |= CTL_F_FORCE;
	req.flags |= https;
	if (errlog)
		req.flags |= CTL_F_ERROR;
	if (sync)
		req.flags |= CTL_F_SYNC;
	if (json && v->id == CTL_EXPORT_HESIOD)
		req.flags |= CTL_F_JSON;	/* the master writes it */

	if (config_load(&conf, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "locker: %s\n", err);
		return 1;
	}
	if (v->id == CTL_LOGS || v->id == CTL_CRON_LOG)
		return do_logs(&req, follow);
	if (v->id == CTL_SU)
		return do_su(connect_master(), &req);
	o.verb = v->id;
	return request(&req, &o);
}
