/*
 * log.c: the diagnostics vocabulary of every lockerd process.
 *
 * Diagnostics go to stderr, which the master inherits from its service
 * manager and hands down to every child; access and script logs go
 * through logd instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

static char	log_proc[32] = "lockerd";
static int	log_debug_on;

void
log_init(const char *procname, int debug)
{
	log_setproc(procname);
	log_debug_on = debug || getenv("LOCKERD_DEBUG") != NULL;
}

void
log_setproc(const char *procname)
{
	snprintf(log_proc, sizeof(log_proc), "%s", procname);
}

/* One write(2) per line, so lines of concurrent processes do not interleave. */
static void
vlog(const char *level, int with_errno, const char *fmt, va_list ap)
{
	char	 msg[1024], line[1200];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		snprintf(line, sizeof(line), "%s[%d]: %s%s: %s\n", log_proc,
		    (int)getpid(), level, msg, strerror(saved));
	else
		snprintf(line, sizeof(line), "%s[%d]: %s%s\n", log_proc,
		    (int)getpid(), level, msg);
	if (write(STDERR_FILENO, line, strlen(line)) == -1) {
		/* nowhere left to say it */
	}
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	vlog("debug: ", 0, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", 1, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
