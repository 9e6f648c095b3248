/* util.c: small helpers shared by every process. */
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <signal.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"

int
strlcpy_ok(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz == 0)
		return -1;
	if (n >= dstsz) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl == -1)
		return -1;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl);
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Decimal digits only: no sign, no spaces, no overflow. */
int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
path_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0)
		return 0;
	return path[n] == '\0' || path[n] == '/';
}

size_t
hex_escape(char *out, unsigned char ch)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[ch >> 4];
	out[3] = hex[ch & 15];
	return 4;
}

int
signals_fd(const int *sigs)
{
	sigset_t set;

	sigemptyset(&set);
	for (; *sigs != 0; sigs++)
		sigaddset(&set, *sigs);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

const char *
path_ext(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0')
		return NULL;
	return dot + 1;
}

int
str_is_printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * Close every descriptor from lowfd up but those named in keep.  Every
 * child lockerd forks calls it first, before it reads a byte or runs
 * anyone's code: a child holds only what it was given on purpose, never its
 * parent's channels, listeners or the sockets of other scripts (a copy of
 * those keeps their peers from seeing the end of them).  Close-on-exec is
 * not enough: it acts only at an exec, and some children never exec or do
 * work first.  One close_range() per gap between the kept ones.
 */
int
close_fds_except(int lowfd, const int *keep, int nkeep)
{
	int	sorted[CLOSE_KEEP_MAX], n = 0, i, j, from = lowfd;

	if (nkeep < 0 || nkeep > CLOSE_KEEP_MAX)
		return -1;
	for (i = 0; i < nkeep; i++) {
		if (keep[i] < lowfd)
			continue;
		for (j = n; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
		n++;
	}
	for (i = 0; i < n; i++) {
		if (sorted[i] > from &&
		    syscall(SYS_close_range, (unsigned)from, (unsigned)sorted[i] - 1, 0) == -1)
			return -1;
		if (sorted[i] >= from)
			from = sorted[i] + 1;
	}
	return (int)syscall(SYS_close_range, (unsigned)from, ~0U, 0);
}

/* err = "what: strerror(errno)"; errno kept; always -1, for "return errno_fail(...)". */
int
errno_fail(char *err, size_t errlen, const char *fmt, ...)
{
	char	 msg[PATH_MAX + 100];
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", msg, strerror(saved));
	errno = saved;
	return -1;
}

/* ------------------------------------------------------------ networks */

int
net_parse(const char *s, struct conf_net *n)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	struct in_addr	 a4;
	uint64_t	 bits;
	int		 v4, i;

	memset(n, 0, sizeof(*n));
	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if ((v4 = inet_pton(AF_INET, buf, &a4) == 1)) {
		n->addr[10] = n->addr[11] = 0xff;
		memcpy(n->addr + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, buf, n->addr) != 1)
		return -1;
	bits = v4 ? 32 : 128;
	if (slash != NULL && parse_uint(slash, v4 ? 32 : 128, &bits) == -1)
		return -1;
	n->bits = (uint8_t)(v4 ? 96 + bits : bits);
	/* Host bits set: a typo (10.0.0.5/8), not a network. */
	for (i = n->bits; i < 128; i++)
		if (n->addr[i / 8] & (0x80 >> (i % 8)))
			return -1;
	return 0;
}

int
net_match(const struct conf_net *n, const uint8_t a[16])
{
	int	full = n->bits / 8, rest = n->bits % 8;

	if (memcmp(n->addr, a, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((n->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

void
net_format(const struct conf_net *n, char *out, size_t outsz)
{
	static const uint8_t	mapped[12] = { [10] = 0xff, [11] = 0xff };
	char			a[INET6_ADDRSTRLEN];

	if (n->bits >= 96 && memcmp(n->addr, mapped, 12) == 0) {
		inet_ntop(AF_INET, n->addr + 12, a, sizeof(a));
		snprintf(out, outsz, "%s/%u", a, n->bits - 96);
	} else {
		inet_ntop(AF_INET6, n->addr, a, sizeof(a));
		snprintf(out, outsz, "%s/%u", a, n->bits);
	}
}
