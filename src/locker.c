/*
 * locker.c: the command-line tool.  It speaks the master's own message
 * format over the control socket; the master decides what the caller may
 * do from the socket's peer credentials.  No setuid anywhere.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

static int		 json;
static struct config	 conf;

struct verb {
	const char	*name;		/* "vhost add" */
	enum ctl_verb	 verb;
	int		 min, max;	/* positional arguments */
	const char	*args;		/* for usage */
	const char	*help;
};

static const struct verb verbs[] = {
	{ "signup", CTL_SIGNUP, 1, 1, "NAME", "create a locker (root)" },
	{ "list", CTL_LIST, 0, 0, "", "list the lockers" },
	{ "info", CTL_INFO, 1, 1, "NAME", "show a locker and its vhosts" },
	{ "remove", CTL_REMOVE, 1, 1, "NAME [--purge]",
	  "remove a locker; its home is archived, or deleted with --purge (root)" },
	{ "vhost add", CTL_VHOST_ADD, 2, 2, "NAME HOST [--path SUBDIR]",
	  "serve HOST from NAME's web_scripts[/SUBDIR] (root)" },
	{ "vhost remove", CTL_VHOST_REMOVE, 1, 1, "HOST", "stop serving HOST (root)" },
	{ "vhost list", CTL_VHOST_LIST, 0, 1, "[NAME]", "list vhosts" },
	{ "run", CTL_RUN, 1, -1, "NAME -- COMMAND [ARG...]",
	  "run a command as the locker, in its sandbox (root)" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static __attribute__((noreturn)) void
usage(void)
{
	const struct verb *v;

	fprintf(stderr, "usage: locker [-c file] [--json] command [arguments]\n\n"
	    "commands:\n");
	for (v = verbs; v->name != NULL; v++)
		fprintf(stderr, "  %-13s %-26s %s\n", v->name, v->args, v->help);
	fprintf(stderr, "\n  -c file  lockerd's configuration (default " DEFAULT_CONFIG ")\n"
	    "  --json   machine-readable output\n");
	exit(2);
}

static void
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
		printf("}");
	} else if (o->verb == CTL_VHOST_LIST) {
		if (first)
			printf("%-40s %-24s %s\n", "HOST", "LOCKER", "PATH");
		printf("%-40s %-24s /%s\n", v->host, v->locker, v->subdir);
	} else
		printf("vhost:   http://%s/ -> web_scripts/%s\n", v->host, v->subdir);
}

static void
print_end(struct out *o, int nvhosts)
{
	if (!json)
		return;
	if (o->verb == CTL_LIST)
		printf("%s]\n", o->n ? "\n" : "[");
	else if (o->verb == CTL_VHOST_LIST)
		printf("%s]\n", nvhosts ? "\n" : "[");
	else if (o->verb == CTL_INFO && o->info_vhosts)
		printf("]}\n");
}

/* Read replies until MSG_CTL_DONE; returns the exit status it carries. */
static int
read_replies(int fd, enum ctl_verb verb)
{
	union {
		struct ctl_locker	l;
		struct ctl_vhost	v;
		struct ctl_done		d;
		char			text[MSG_MAX_PAYLOAD + 1];
	} m;
	struct out	 o = { .verb = verb };
	enum msg_type	 type;
	ssize_t		 n;
	int		 pfd, nvhosts = 0;

	for (;;) {
		n = msg_recv(fd, &type, &m, sizeof(m) - 1, &pfd);
		if (pfd != -1)
			close(pfd);
		if (n == -1 || type == MSG_NONE) {
			fprintf(stderr, "locker: lockerd closed the connection\n");
			return 1;
		}
		switch (type) {
		case MSG_CTL_LOCKER:
			if ((size_t)n == sizeof(m.l))
				print_locker(&o, &m.l);
			break;
		case MSG_CTL_VHOST:
			if ((size_t)n == sizeof(m.v))
				print_vhost(&o, &m.v, nvhosts++ == 0);
			break;
		case MSG_CTL_TEXT:
			m.text[n] = '\0';
			if (json)
				fprintf(stderr, "%s\n", m.text);
			else
				printf("%s\n", m.text);
			break;
		case MSG_CTL_DONE:
			if ((size_t)n != sizeof(m.d))
				return 1;
			m.d.message[sizeof(m.d.message) - 1] = '\0';
			if (m.d.code == 0)
				print_end(&o, nvhosts);
			if (m.d.message[0])
				fprintf(stderr, "locker: %s\n", m.d.message);
			return m.d.code;
		default:
			break;
		}
	}
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

int
main(int argc, char **argv)
{
	const char		*path = DEFAULT_CONFIG, *subdir = NULL;
	const struct verb	*v;
	struct ctl_request	 req;
	char			*pos[CTL_MAX_ARGV + 4], err[512];
	int			 npos = 0, purge = 0, i, fd, dashdash = -1;

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
			else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
				subdir = argv[++i];
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
	memset(&req, 0, sizeof(req));
	req.verb = v->verb;
	if (v->verb == CTL_RUN) {
		size_t off = 0;
		int k;

		if (npos - i < 1 || dashdash != i + 1 || npos - dashdash < 1 ||
		    npos - dashdash > CTL_MAX_ARGV) {
			fprintf(stderr, "locker: usage: locker run NAME -- COMMAND [ARG...]\n");
			return 2;
		}
		copy_arg(req.name, sizeof(req.name), pos[i], "name");
		for (k = dashdash; k < npos; k++) {
			size_t l = strlen(pos[k]) + 1;

			if (off + l > sizeof(req.argv)) {
				fprintf(stderr, "locker: command too long\n");
				return 2;
			}
			memcpy(req.argv + off, pos[k], l);
			off += l;
		}
		req.argc = (uint32_t)(npos - dashdash);
	} else {
		if (dashdash != -1 || npos - i < v->min || (v->max >= 0 && npos - i > v->max)) {
			fprintf(stderr, "locker: usage: locker %s %s\n", v->name, v->args);
			return 2;
		}
		if ((purge && v->verb != CTL_REMOVE) || (subdir && v->verb != CTL_VHOST_ADD)) {
			fprintf(stderr, "locker: usage: locker %s %s\n", v->name, v->args);
			return 2;
		}
		if (v->verb == CTL_VHOST_REMOVE)
			copy_arg(req.host, sizeof(req.host), pos[i], "host name");
		else if (npos - i >= 1)
			copy_arg(req.name, sizeof(req.name), pos[i], "name");
		if (v->verb == CTL_VHOST_ADD)
			copy_arg(req.host, sizeof(req.host), pos[i + 1], "host name");
		if (subdir != NULL) {
			while (*subdir == '/')
				subdir++;
			copy_arg(req.subdir, sizeof(req.subdir), subdir, "path");
		}
		if (purge)
			req.flags |= CTL_F_PURGE;
	}

	if (config_load(&conf, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "locker: %s\n", err);
		return 1;
	}
	fd = connect_master();
	if (msg_send(fd, MSG_CTL_REQUEST, &req, sizeof(req), -1) == -1) {
		perror("locker: send");
		return 1;
	}
	/* If lockerd refused at once, its answer is waiting: read it. */
	if (v->verb == CTL_RUN)
		for (i = 0; i < 3; i++)
			if (msg_send(fd, MSG_CTL_STDIO, NULL, 0, i) == -1)
				break;
	return read_replies(fd, v->verb);
}
