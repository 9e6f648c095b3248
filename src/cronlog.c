/*
 * cronlog.c: each locker's cron log, in logd: lockers/NAME/cron.log.
 *
 * What a locker's cron jobs print (through a channel bound to the locker,
 * so a job writes its own locker's log and no other) and the master's own
 * lines (a crontab compiled or refused, a job skipped or killed).  Each
 * line gets the time; every control character is escaped as \xNN, so a
 * job cannot forge a line or move a terminal's cursor.  At log-size (the
 * locker's own, as for error.log) cron.log becomes cron.log.1 and the old
 * .1 goes: a locker's cron logs hold at most twice log-size.  How much a
 * job prints is bounded where it runs (CRON_OUTPUT_MAX a run); a job that
 * lies about that only fills its own two files.
 *
 * Few lines come a minute, so the file is opened for each message rather
 * than kept open.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

static void
cron_path(const char *locker, int old, char *out, size_t outsz)
{
	snprintf(out, outsz, "/lockers/%s/cron.log%s", locker, old ? ".1" : "");
}

/* One line of text[0..len) as the log holds it: stamped, escaped. */
static size_t
format(char *out, size_t outsz, const char *stamp, const char *p, size_t len)
{
	size_t	i, n = (size_t)snprintf(out, outsz, "[%s] ", stamp);

	for (i = 0; i < len && n + 5 < outsz; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch == 0x7f)
			n += hex_escape(out + n, ch);
		else
			out[n++] = (char)ch;
	}
	out[n++] = '\n';
	return n;
}

void
cronlog_write(const char *locker, const char *text, size_t len, uint64_t max_size)
{
	static char	 buf[LOG_LINE_MAX * 4 + 64];
	char		 path[LOCKER_NAME_MAX + 32], old[LOCKER_NAME_MAX + 32], stamp[64];
	struct stat	 st;
	time_t		 t = time(NULL);
	struct tm	 tm;
	size_t		 start = 0, i, n;
	int		 fd;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", &tm);
	mkdir("/lockers", 0750);
	snprintf(path, sizeof(path), "/lockers/%s", locker);
	mkdir(path, 0750);
	cron_path(locker, 0, path, sizeof(path));
	if (max_size != 0 && stat(path, &st) == 0 && (uint64_t)st.st_size + len > max_size) {
		cron_path(locker, 1, old, sizeof(old));
		if (rename(path, old) == -1)
			log_warn("logd: rename %s", path);
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640)) == -1) {
		log_warn("logd: open %s", path);
		return;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i > start || i < len) {
			n = format(buf, sizeof(buf), stamp, text + start,
			    i - start > LOG_LINE_MAX ? LOG_LINE_MAX : i - start);
			write_all(fd, buf, n);
		}
		start = i + 1;
	}
	close(fd);
}
