/*
 * dirsync_tool.c: for test_dirsync.py, a stand-in for the master's end of
 * lockerd-dirsync's channel, so that dirsync is tested against a real
 * PostgreSQL on its own, message by message.
 *
 *   dirsync-tool DIRSYNC-BINARY STATE-DIR DIR-USER NODE CONNINFO-FILE TIMEOUT-MS REV
 *
 * starts DIRSYNC-BINARY on a channel (fd 3), sends it the configuration
 * (state, dir-user) and HELLO with the conninfo file opened here, then
 * reads commands on stdin, a line each, fields separated by tabs ("-" is
 * an empty row):
 *
 *   change ID [TABLE OP OLD NEW]...    one MSG_DIR_CHANGE (TABLE: dirtab name)
 *   beat STATE ADDR LOAD               one MSG_DIR_BEAT
 *   raw ID NREC HEX                    a MSG_DIR_CHANGE of the given bytes
 *
 * and prints what dirsync says, a line each:
 *
 *   state UP SINCE PRIMARY WHY
 *   result ID STATUS REV WHY
 *   rows FROM TO FULL NREC, then NREC lines: row TABLE OP REV JSON
 *   exit STATUS                        dirsync ended
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "dirtab.h"
#include "dirsync.h"
#include "dirrec.h"

static int	chan = -1;
static pid_t	child;

static void
start(const char *bin, const char *state, const char *user)
{
	static struct config c;
	char	 text[1024], err[512];
	int	 sv[2];

	snprintf(text, sizeof(text), "state %s\ndir-user %s\n", state, user);
	if (config_parse(&c, "dirsync-tool", text, strlen(text), err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		fatalx("%s", "socketpair");
	if ((child = fork()) == 0) {
		if (dup2(sv[1], CHILD_CHAN_FD) == -1)
			_exit(127);
		execl(bin, bin, "-R", "dirsync", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	chan = sv[0];
	if (msg_send(chan, MSG_CONFIG, &c, sizeof(c), -1) == -1)
		fatalx("%s", "send config");
}

static void
hello(const char *node, const char *file, const char *timeout, const char *rev)
{
	struct msg_dir_hello h;
	int	 fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		fatalx("%s", "open conninfo");
	memset(&h, 0, sizeof(h));
	snprintf(h.node, sizeof(h.node), "%s", node);
	h.timeout_ms = (uint32_t)strtoul(timeout, NULL, 10);
	h.beat_ms = 1000;
	h.rev = strtoull(rev, NULL, 10);
	if (msg_send(chan, MSG_DIR_HELLO, &h, sizeof(h), fd) == -1)
		fatalx("%s", "send hello");
	close(fd);
}

static const char *
field(char **s)
{
	char *f = strsep(s, "\t");

	return f == NULL ? "" : f;
}

static void
send_records(uint64_t id, struct dirbuf *b)
{
	struct msg_dir_change m = { .id = id, .nrec = b->nrec };
	int fd = dirbuf_seal(b, "tool");

	if (fd == -1 || msg_send(chan, MSG_DIR_CHANGE, &m, sizeof(m), fd) == -1)
		fatalx("%s", "send change");
	close(fd);
}

static void
cmd_change(char *rest)
{
	struct dirbuf	  b = { 0 };
	struct dir_change c;
	const char	 *why, *t, *o, *n;
	uint64_t	  id = strtoull(field(&rest), NULL, 10);

	while (rest != NULL && *rest != '\0') {
		t = field(&rest);
		c.op = (uint8_t)atoi(field(&rest));
		o = field(&rest);
		n = field(&rest);
		if (dirtab_index(t) < 0)
			fatalx("%s", "no such table");
		c.tbl = (uint8_t)dirtab_index(t);
		c.old = strcmp(o, "-") ? o : NULL;
		c.oldlen = c.old ? (uint32_t)strlen(o) : 0;
		c.new = strcmp(n, "-") ? n : NULL;
		c.newlen = c.new ? (uint32_t)strlen(n) : 0;
		if (dirrec_put_change(&b, &c, &why) == -1)
			fatalx("%s", why);
	}
	send_records(id, &b);
	dirbuf_free(&b);
}

/* Bytes as given, for the tests of what dirsync refuses. */
static void
cmd_raw(char *rest)
{
	struct dirbuf	b = { 0 };
	uint64_t	id = strtoull(field(&rest), NULL, 10);
	uint32_t	nrec = (uint32_t)strtoul(field(&rest), NULL, 10);
	const char	*hex = field(&rest);
	size_t		i, n = strlen(hex) / 2;

	b.p = malloc(n + 1);
	for (i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &b.p[i]);
	b.len = b.cap = n;
	b.nrec = nrec;
	send_records(id, &b);
	dirbuf_free(&b);
}

static void
cmd_beat(char *rest)
{
	struct msg_dir_beat b;

	memset(&b, 0, sizeof(b));
	snprintf(b.state, sizeof(b.state), "%s", field(&rest));
	snprintf(b.addr, sizeof(b.addr), "%s", field(&rest));
	b.load = atoi(field(&rest));
	if (msg_send(chan, MSG_DIR_BEAT, &b, sizeof(b), -1) == -1)
		fatalx("%s", "send beat");
}

static void
stdin_line(void)
{
	static char	buf[1 << 20];
	static size_t	have;
	ssize_t		n = read(0, buf + have, sizeof(buf) - 1 - have);
	char		*nl, *line, *cmd;

	if (n <= 0) {
		kill(child, SIGTERM);
		exit(0);
	}
	have += (size_t)n;
	while ((nl = memchr(buf, '\n', have)) != NULL) {
		*nl = '\0';
		line = buf;
		cmd = strsep(&line, "\t");
		if (strcmp(cmd, "change") == 0)
			cmd_change(line);
		else if (strcmp(cmd, "beat") == 0)
			cmd_beat(line);
		else if (strcmp(cmd, "raw") == 0)
			cmd_raw(line);
		have -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, have);
	}
}

static void
print_rows(const struct msg_dir_rows *m, int fd)
{
	const unsigned char	*p;
	const char		*why;
	struct dir_row		 r;
	size_t			 len, off = 0;

	printf("rows\t%" PRIu64 "\t%" PRIu64 "\t%u\t%u\n", m->from_rev, m->to_rev, m->full,
	    m->nrec);
	if (dirrec_map(fd, &p, &len, &why) == -1 ||
	    dirrec_check_rows(p, len, m->nrec, (unsigned)dirtab_count(), &why) == -1) {
		printf("bad\t%s\n", why);
		return;
	}
	while (dirrec_next_row(p, len, &off, (unsigned)dirtab_count(), &r, &why) == 1)
		printf("row\t%s\t%u\t%" PRIu64 "\t%.*s\n", dirtab[r.tbl].name, r.op, r.rev,
		    (int)r.len, r.json);
	dirrec_unmap(p, len);
}

static void
chan_read(void)
{
	static union {
		struct msg_dir_result	r;
		struct msg_dir_rows	w;
		struct msg_dir_state	s;
	} m;
	enum msg_type	 type;
	const char	*why;
	ssize_t		 n;
	int		 fd, status;

	n = msg_recv_checked(chan, MR_MASTER, MR_DIRSYNC, &type, &m, sizeof(m), &fd, &why);
	if (n == MSG_BREACH) {
		printf("breach\t%s\n", why);
	} else if (n < 0 || type == MSG_NONE) {
		waitpid(child, &status, 0);
		printf("exit\t%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		fflush(stdout);
		exit(0);
	} else if (type == MSG_DIR_STATE) {
		printf("state\t%d\t%" PRId64 "\t%s\t%s\n", m.s.up, m.s.since, m.s.primary, m.s.why);
	} else if (type == MSG_DIR_RESULT) {
		printf("result\t%" PRIu64 "\t%d\t%" PRIu64 "\t%s\n", m.r.id, m.r.status, m.r.rev,
		    m.r.why);
	} else if (type == MSG_DIR_ROWS) {
		print_rows(&m.w, fd);
	}
	if (fd != -1)
		close(fd);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct pollfd p[2];

	if (argc != 8) {
		fprintf(stderr, "usage: dirsync-tool DIRSYNC STATE DIR-USER NODE CONNINFO-FILE "
		    "TIMEOUT-MS REV\n");
		return 2;
	}
	log_init("dirsync-tool", 0);
	start(argv[1], argv[2], argv[3]);
	hello(argv[4], argv[5], argv[6], argv[7]);
	for (;;) {
		p[0].fd = 0;
		p[0].events = POLLIN;
		p[1].fd = chan;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) == -1 && errno != EINTR)
			return 1;
		if (p[1].revents)
			chan_read();
		if (p[0].revents)
			stdin_line();
	}
}
