/*
 * cgienv.h: a script's CGI/1.1 environment, and the same as FastCGI PARAMS.
 */
#ifndef LOCKERD_CGIENV_H
#define LOCKERD_CGIENV_H

#include <stddef.h>

#define MAX_ENV		200
#define ENV_BYTES	(64 * 1024)

struct env {
	char	*v[MAX_ENV + 1];
	int	 n;
	char	 buf[ENV_BYTES];
	size_t	 used;
};

/* NAME=value, formatted; dropped (not cut) when the environment is full. */
void	env_add(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The locker's home, the directory its web root (docroot) is in. */
void	cgi_home_of(const char *docroot, char *out, size_t outsz);
/* The whole environment of s; e->v is NULL-terminated. */
void	build_env(struct env *e, const struct script_req *s);
/*
 * BEGIN_REQUEST (id 1, FCGI_KEEP_CONN as asked), the environment as PARAMS
 * and, with end_stdin, the empty STDIN record of a request without a body.
 * Returns the length written to buf, or 0 if it does not fit in cap.
 */
size_t	cgi_fcgi_request(const struct script_req *s, unsigned char *buf, size_t cap,
	    int keep_conn, int end_stdin);
/* Bytes cgi_fcgi_request may need at most. */
#define FCGI_REQUEST_MAX	(ENV_BYTES + 2 * 4096 + 64)

#endif
