/*
 * front.c: the only process that talks to the internet ("okd").
 *
 * Runs as an unprivileged system user, chrooted into an empty directory.
 * It parses HTTP, finds the locker a request belongs to from the routing
 * table the master pushes, hands the request to that locker's worker, and
 * sends the answer: a head it builds itself and the body from a descriptor
 * the worker opened with the locker's rights.  Everything a worker says is
 * treated as hostile: a worker is the locker's own process.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockerd.h"
#include "body.h"
#include "cgi.h"
#include "cgienv.h"
#include "cookie.h"
#include "fcgi.h"
#include "http.h"
#include "respbuf.h"
#include "route.h"

enum conn_state {
	C_READ_HEAD,
	C_READ_BODY,
	C_WAIT_WORKER,
	C_SEND,
	C_CGI,		/* a script runs: body up, output down */
	C_WAIT_FCGI,	/* waiting for a connection to the locker's FastCGI pool */
};

enum obj_kind { K_LISTEN = 1, K_CONN, K_MASTER, K_SIGNAL, K_WCHAN, K_LOGD, K_CGI, K_FCONN };

struct wchan;
struct kconn;

/* How the locker's worker resolved a FastCGI script (strings NUL-terminated). */
struct fres {
	char	*s[WSC_MAX];		/* docroot, rel, path_info, index name */
	int	 has_index;
	char	 ext[CONF_EXT_LEN];
	size_t	 size;			/* of this allocation */
};

struct conn {
	enum obj_kind		 kind;		/* K_CONN */
	int			 fd;
	enum conn_state		 state;
	struct conn		*prev, *next;	/* all connections, for timeouts */
	uint64_t		 deadline;

	char			*in;
	size_t			 insz, inlen;
	size_t			 head_len;	/* the current request's head */
	size_t			 pos;		/* first unconsumed byte after it */
	struct http_request	 req;
	int			 have_req;

	int			 body_pending;	/* a body not yet read: no keep-alive */
	int64_t			 body_left;	/* Content-Length still to discard */
	uint64_t		 body_seen;	/* chunked: decoded bytes so far */
	int			 body_chunked;
	struct http_chunked	 chunk;
	int			 body_keep;	/* held for a script (body.c), not dropped */
	struct body		 body;		/* ... here, whole */
	uint64_t		 body_deadline;	/* the whole body's, however it trickles */
	int			 want_spool;	/* asked the worker for a spool for it */
	int			 continued;	/* "100 Continue" sent for this request */

	char			 path[4096];	/* normalised URL path */
	char			 locker[LOCKER_NAME_MAX + 1];
	unsigned		 script_s;	/* its script's time limit, seconds */

	/* The worker exchange. */
	struct wchan		*wc;
	TAILQ_ENTRY(conn)	 wlink;		/* in wc's queue */
	uint64_t		 req_id;
	int			 sent;		/* request written to the channel */
	int			 retried;
	int			 closed;	/* freed after this event-loop round */
	int			 readable;	/* the kernel may hold more bytes for us */
	int			 rdhup;		/* the peer has shut down its side */
	char			 fs_path[4096];
	char			 url_prefix[LOCKER_NAME_MAX + 3];

	/* The response. */
	char			 out[8192];	/* our response head (and small error pages) */
	size_t			 outlen, outoff;
	int			 out_full;	/* a field did not fit in out: not sent */
	int			 file_fd;
	off_t			 file_off, file_left;
	int			 status;
	off_t			 body_bytes;
	int			 keep_alive;
	unsigned		 nreq;
	time_t			 started;

	char			 peer[INET6_ADDRSTRLEN];
	char			 local[INET6_ADDRSTRLEN];
	uint16_t		 peer_port, local_port;

	/* A script's socket: the body goes up it, the output comes down. */
	struct cgi_tag {
		enum obj_kind	 kind;		/* K_CGI: epoll's handle on it */
		struct conn	*c;
	}			 cgi_tag;
	int			 cgi_fd;
	int			 cgi_nph;
	int			 cgi_head_done;
	int			 cgi_readable, cgi_writable, cgi_eof;
	char			*cgi_buf;	/* output of the script, framed */
	size_t			 cgi_len, cgi_off;
	int			 chunked_out;	/* we frame the output in chunks */
	int64_t			 out_left;	/* Content-Length the script gave, or -1 */
	char			 ck_h[24];	/* the chunk being sent: its size line, */
	size_t			 ck_hlen, ck_hoff;
	size_t			 ck_data;	/* its data bytes still to go, */
	size_t			 ck_tail;	/* and its closing CRLF */
	size_t			 ck_end;	/* the last chunk, still to send */
	int			 ck_end_queued;
	char			*up;		/* body bytes on their way to the script */
	size_t			 up_len, up_off;
	uint64_t		 up_src;	/* of c->body, read into c->up so far */
	int			 upload_done;
	int			 up_discard;	/* the script stopped reading: drop the rest */
	int			 then_send;	/* discard the body, then send the answer */
	int			 redirects;
	char			*redirect_query;	/* a local redirect's query string */

	/* The same, when the script is the locker's FastCGI pool. */
	int			 fcgi;
	int			 fcgi_error;
	int			 fcgi_stdin_ended;
	int			 fcgi_ended;	/* END_REQUEST came: the answer is whole */
	struct fcgi_reader	 fr;
	unsigned char		*fraw;		/* records as read */
	size_t			 fraw_len, fraw_off;
	const unsigned char	*fpend;		/* stdout bytes of fraw not yet taken */
	size_t			 fpend_len;
	struct kconn		*kc;		/* the pool connection it uses */
	int			 kc_reused;	/* ... which served a request before */
	int			 fcgi_retried;
	int			 want_conn;	/* asked the worker for a pool connection */
	unsigned		 cgi_gen;	/* scripts started on this connection */
	struct fres		*scr;		/* the script, as resolved */
	struct wchan		*fqw;		/* waiting in this wchan's queue */
	TAILQ_ENTRY(conn)	 flink;		/* in fqw's queue */
	struct linebuf		 ferr;		/* a partial line of FastCGI STDERR */

	/* The answer held while the client takes it (respbuf.h). */
	struct respbuf		 rb;
	int			 want_rspool;	/* asked the worker for a spool for it */
	int			 sp_piece;	/* a piece from the spool is going out */
	size_t			 sp_data;	/* ... its bytes still to send */
	int			 detached;	/* the script is gone: its answer is here */
};

/*
 * A connection to a locker's FastCGI pool, kept open (FCGI_KEEP_CONN) for
 * the next request: no worker round trip, no connect, no accept.  Each
 * pins one PHP process of the pool while open, so a front process holds at
 * most its share of them (fcgi_front_share()); requests beyond wait in
 * front for one to be free.  It belongs to the locker's channel, and dies
 * with it.
 */
struct kconn {
	enum obj_kind	 kind;		/* K_FCONN */
	int		 fd;
	struct wchan	*w;		/* NULL once the channel is gone */
	struct conn	*owner;		/* the request using it; NULL: idle */
	char		 ext[CONF_EXT_LEN];
	struct kconn	*next;
	int		 dead;
	unsigned	 used;		/* requests served */
};

LIST_HEAD(wchan_list, wchan);

/* The body that goes to the script: none to a local redirect's target. */
static inline uint64_t
cgi_body_len(const struct conn *c)
{
	return c->redirects ? 0 : c->body.len;
}

static void	body_drop(struct conn *c);
static void	body_expect(struct conn *c);
static void	body_hold_begin(struct conn *c);
static void	body_deadline_begin(struct conn *c);
static void	body_deadline_renew(struct conn *c);
static void	body_ask_spool(struct conn *c);
static struct wchan	*wchan_get(const char *locker);
static void	worker_send(struct conn *c, struct wchan *w, int want);

struct wchan {
	enum obj_kind	 kind;		/* K_WCHAN */
	char		 locker[LOCKER_NAME_MAX + 1];
	int		 fd;		/* -1 until the master hands it over */
	TAILQ_HEAD(, conn) wq;		/* requests outstanding, oldest first */
	LIST_ENTRY(wchan) hlink;	/* in its bucket; on F.dead_wchans once dead */
	LIST_ENTRY(wchan) flink;	/* on F.flush: has requests to write */
	int		 dirty;
	int		 dead;
	struct kconn	*kconns;	/* to the locker's FastCGI pools */
	unsigned	 nk;		/* how many */
	unsigned	 npending;	/* asked of the worker, not answered yet */
	TAILQ_HEAD(, conn) fq;		/* requests waiting for one */
	int		 kick;
	LIST_ENTRY(wchan) klink;	/* on F.kick */
	/* The locker's own limits, from the master; 0: the configuration's. */
	unsigned	 script_timeout;
	unsigned	 max_scripts;
	uint64_t	 log_rate;	/* LOG_LIMIT_DEFAULT: the configuration's */
	struct rate_bucket	 errb;		/* of the PHP errors front relays */
	uint64_t	 err_dropped;	/* bytes of them dropped, not told logd yet */
	uint64_t	 told_busy;	/* when the worker last had MSG_BUSY */
};

static struct {
	struct config		 conf;
	int			 idx;
	int			 epfd;
	int			 master;
	int			 logfd;
	int			 listen[CONF_MAX_LISTEN];
	int			 nlisten;
	struct route_table	*routes;
	struct conn		*conns;
	unsigned		 nconns;
	struct conn		*graveyard;	/* closed, freed at the end of the round */
	struct wchan_list	 dead_wchans;
	struct wchan_list	 flush;		/* written at the end of the round */
	struct wchan_list	 kick;		/* a pool connection may be free */
	struct kconn		*dead_kconns;
	uint64_t		 next_id;
	int			 stopping;
	uint64_t		 stop_deadline;
	struct http_limits	 limits;
	char			 date[30];
	time_t			 date_t;
	char			 logtime[40];	/* the access log's time, per second */
	time_t			 logtime_t;
	char			 logbuf[60000];
	size_t			 loglen;
	uint64_t		 log_first;	/* when the oldest unsent line was made */
	unsigned long		 logdrops;
	uint64_t		 busy_walked;	/* busy_tell_all(): when, */
	int			 busy_seen;	/* ... and whether it found work */
} F;

static enum obj_kind master_kind = K_MASTER, signal_kind = K_SIGNAL;
static enum obj_kind listen_kind = K_LISTEN, logd_kind = K_LOGD;

static void	conn_run(struct conn *c);
static void	conn_close(struct conn *c);
static void	send_error(struct conn *c, int status, int keep);
static void	wchan_fail(struct wchan *w, int status);
static void	dispatch_worker(struct conn *c);
static void	cgi_end(struct conn *c);
static void	cgi_run(struct conn *c);
static void	cgi_start(struct conn *c, int fd, int nph, const void *pre, size_t prelen);
static void	kconn_release(struct conn *c);
static void	kconn_drop(struct kconn *kc);
static void	fq_remove(struct conn *c);
static void	fcgi_kick(struct wchan *w);
static void	request_done(struct conn *c);
static void	resp_spool_refused(struct conn *c);
static void	resp_got_spool(struct conn *c, const struct wire_response *r, int fd);

/* ------------------------------------------------------------ helpers */

static void
ev_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	if (epoll_ctl(F.epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("front: epoll_ctl add");
}

static uint64_t	loop_now;

static void
update_date(void)
{
	time_t t = time(NULL);

	loop_now = now_ms();
	if (t != F.date_t) {
		F.date_t = t;
		http_format_date(t, F.date);
	}
}

static void	caches_clear(void);

static void
apply_config(const struct config *c)
{
	caches_clear();
	F.conf = *c;
	F.limits.max_request_line = c->max_request_line;
	F.limits.max_head = c->max_header_size;
	F.limits.max_headers = c->max_headers;
}

/* ------------------------------------------------------------ access log */

/* Apache's escaping: quotes, backslashes and non-printing bytes as \xHH. */
static size_t
log_escape(char *dst, size_t dstsz, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < dstsz; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else
			dst[o++] = (char)ch;
	}
	dst[o] = '\0';
	return o;
}

static void
log_flush(void)
{
	if (F.loglen == 0)
		return;
	if (F.logfd == -1 || msg_send(F.logfd, MSG_LOG_ACCESS, F.logbuf, F.loglen, -1) == -1) {
		if (F.logfd != -1 && errno == EAGAIN && F.loglen < sizeof(F.logbuf) - 8192)
			return;	/* logd is busy: keep the batch a little longer */
		F.logdrops++;
		if (F.logdrops == 1 || F.logdrops % 1000 == 0)
			log_warnx("front %d: logd unreachable, %lu log batches dropped",
			    F.idx, F.logdrops);
	}
	F.loglen = 0;
}

/* One combined-format line, batched; logd writes it to the files. */
static void
log_access(struct conn *c)
{
	char		 line[4096], reqline[1100], ref[600], ua[600], tbuf[40], bytes[24];
	struct tm	 tm;
	time_t		 t = c->started;
	size_t		 namelen = strlen(c->locker), linelen;
	uint16_t	 l16;
	int		 n;

	stats_count(F.master, c->locker, namelen, c->status);
	if (c->have_req) {
		size_t rl = (size_t)(c->req.version_minor >= 0 ?
		    (c->req.target.p + c->req.target.len + 9) - c->req.method_str.p : 0);

		if (c->req.method_str.p == NULL)
			rl = 0;
		log_escape(reqline, sizeof(reqline), c->req.method_str.p, rl > 1024 ? 1024 : rl);
		log_escape(ref, sizeof(ref), c->req.referer.p ? c->req.referer.p : "-",
		    c->req.referer.p ? (c->req.referer.len > 512 ? 512 : c->req.referer.len) : 1);
		log_escape(ua, sizeof(ua), c->req.user_agent.p ? c->req.user_agent.p : "-",
		    c->req.user_agent.p ? (c->req.user_agent.len > 512 ? 512 :
		    c->req.user_agent.len) : 1);
	} else {
		reqline[0] = '\0';
		snprintf(ref, sizeof(ref), "-");
		snprintf(ua, sizeof(ua), "-");
	}
	if (t != F.logtime_t) {
		localtime_r(&t, &tm);
		strftime(F.logtime, sizeof(F.logtime), "%d/%b/%Y:%H:%M:%S %z", &tm);
		F.logtime_t = t;
	}
	memcpy(tbuf, F.logtime, sizeof(F.logtime));
	if (c->body_bytes)
		snprintf(bytes, sizeof(bytes), "%lld", (long long)c->body_bytes);
	else
		snprintf(bytes, sizeof(bytes), "-");
	n = snprintf(line, sizeof(line), "%s - - [%s] \"%s\" %d %s \"%s\" \"%s\"",
	    c->peer, tbuf, reqline, c->status, bytes, ref, ua);
	if (n < 0)
		return;
	linelen = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (F.loglen + 1 + namelen + 2 + linelen > sizeof(F.logbuf))
		log_flush();
	if (F.loglen + 1 + namelen + 2 + linelen > sizeof(F.logbuf))
		return;
	if (F.loglen == 0)
		F.log_first = loop_now;
	F.logbuf[F.loglen++] = (char)namelen;
	memcpy(F.logbuf + F.loglen, c->locker, namelen);
	F.loglen += namelen;
	l16 = (uint16_t)linelen;
	memcpy(F.logbuf + F.loglen, &l16, 2);
	F.loglen += 2;
	memcpy(F.logbuf + F.loglen, line, linelen);
	F.loglen += linelen;
}

/* ------------------------------------------------------------ connections */

static void
conn_link(struct conn *c)
{
	c->next = F.conns;
	if (F.conns)
		F.conns->prev = c;
	F.conns = c;
	F.nconns++;
}

static void
conn_unlink(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		F.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	F.nconns--;
}

static void
wchan_dequeue(struct wchan *w, struct conn *c)
{
	TAILQ_REMOVE(&w->wq, c, wlink);
	c->wc = NULL;
	if (c->want_conn) {
		/* Answered, timed out or gone: the connection asked for is not
		 * pending any more (one that comes anyway is counted then). */
		c->want_conn = 0;
		w->npending--;
		fcgi_kick(w);
	}
}

static void
conn_close(struct conn *c)
{
	if (c->wc != NULL)
		wchan_dequeue(c->wc, c);
	if (c->fqw != NULL)
		fq_remove(c);
	if (c->have_req && c->status != 0)
		log_access(c);
	if (c->file_fd != -1)
		close(c->file_fd);
	cgi_end(c);
	body_drop(c);
	free(c->redirect_query);
	c->redirect_query = NULL;
	free(c->scr);
	c->scr = NULL;
	close(c->fd);
	conn_unlink(c);
	/* Another event of this round may still name it: free it afterwards. */
	c->closed = 1;
	c->next = F.graveyard;
	F.graveyard = c;
}

static void
graveyard_empty(void)
{
	struct conn	*c;
	struct wchan	*w;

	while ((c = F.graveyard) != NULL) {
		F.graveyard = c->next;
		free(c->in);
		free(c);
	}
	while ((w = LIST_FIRST(&F.dead_wchans)) != NULL) {
		LIST_REMOVE(w, hlink);
		free(w);
	}
	while (F.dead_kconns != NULL) {
		struct kconn *k = F.dead_kconns;

		F.dead_kconns = k->next;
		free(k);
	}
}

static void
sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outsz, uint16_t *port)
{
	*port = 0;
	snprintf(out, outsz, "-");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)outsz);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)outsz);
		*port = ntohs(in6->sin6_port);
	}
}

static void
accept_conns(int lfd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct conn		*c;
	int			 fd, i, one = 1;

	for (i = 0; i < 64; i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
				log_warn("front: accept");
			return;
		}
		if (F.nconns >= F.conf.max_connections || F.stopping ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->kind = K_CONN;
		c->fd = fd;
		c->readable = 1;
		c->file_fd = -1;
		c->state = C_READ_HEAD;
		c->keep_alive = 1;
		c->deadline = loop_now + (uint64_t)F.conf.header_timeout * 1000;
		c->cgi_fd = -1;
		body_init(&c->body);
		respbuf_init(&c->rb);
		c->cgi_tag.kind = K_CGI;
		c->cgi_tag.c = c;
		sockaddr_text(&ss, c->peer, sizeof(c->peer), &c->peer_port);
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			sockaddr_text(&ss, c->local, sizeof(c->local), &c->local_port);
		conn_link(c);
		ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, c);
		conn_run(c);
	}
}

/* ------------------------------------------------------------ responses */

static void
head_begin(struct conn *c, int status)
{
	if (c->file_fd != -1) {
		/* an answer replaced before it went out */
		close(c->file_fd);
		c->file_fd = -1;
	}
	c->status = status;
	c->outoff = 0;
	c->out_full = 0;
	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "HTTP/1.1 %d %s\r\nServer: " SERVER_SOFTWARE "\r\nDate: %s\r\n",
	    status, http_reason(status), F.date);
}

static void __attribute__((format(printf, 2, 3)))
head_add(struct conn *c, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(c->out + c->outlen, sizeof(c->out) - c->outlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(c->out) - c->outlen)
		c->outlen += (size_t)n;
	else if (n > 0)
		c->out_full = 1;	/* the caller decides: never a head with a hole */
}

static void
head_end(struct conn *c)
{
	if (c->keep_alive && c->nreq >= F.conf.keepalive_requests)
		c->keep_alive = 0;
	if (F.stopping)
		c->keep_alive = 0;
	if (!c->keep_alive)
		head_add(c, "Connection: close\r\n\r\n");
	else if (c->have_req && c->req.version_minor == 0)
		head_add(c, "Connection: keep-alive\r\n\r\n");
	else
		head_add(c, "\r\n");
}

/* One line for error.log: what went wrong on the server's side. */
static void
log_error(struct conn *c, int status)
{
	char	line[1200], path[600];
	int	n;

	if (F.logfd == -1)
		return;
	log_escape(path, sizeof(path), c->path, strnlen(c->path, 512));
	n = snprintf(line, sizeof(line), "[client %s] locker %s: %d %s for %s", c->peer,
	    c->locker[0] ? c->locker : "-", status, http_reason(status), path);
	if (n > 0)
		msg_send(F.logfd, MSG_LOG_ERROR, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1, -1);
}

/* A small HTML page for an error; keep says whether the stream is still in sync. */
static void
send_error(struct conn *c, int status, int keep)
{
	char	body[512];
	int	blen;

	if (c->have_req && (status == 500 || (status >= 502 && status <= 504)))
		log_error(c, status);

	blen = snprintf(body, sizeof(body),
	    "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
	    "<body><h1>%d %s</h1><hr><address>" SERVER_SOFTWARE "</address></body></html>\n",
	    status, http_reason(status), status, http_reason(status));
	if (!keep)
		c->keep_alive = 0;
	head_begin(c, status);
	head_add(c, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n", blen);
	if (status == 405)
		head_add(c, "Allow: GET, HEAD\r\n");
	if (status == 503)	/* busy (max-scripts, max-workers) or stopping */
		head_add(c, "Retry-After: 1\r\n");
	head_end(c);
	if (!(c->have_req && c->req.method == HTTP_M_HEAD) &&
	    c->outlen + (size_t)blen <= sizeof(c->out)) {
		memcpy(c->out + c->outlen, body, (size_t)blen);
		c->outlen += (size_t)blen;
		c->body_bytes = blen;
	}
	c->state = C_SEND;
	c->deadline = loop_now + (uint64_t)F.conf.send_timeout * 1000;
}

static void
send_redirect(struct conn *c, const char *path)
{
	char	loc[4200], enc[8400];
	const char *q = c->req.query.p;

	snprintf(loc, sizeof(loc), "%s/", path);
	if (http_encode_path(loc, enc, sizeof(enc)) < 0)
		return send_error(c, 414, 1);
	head_begin(c, 301);
	if (q != NULL && c->req.query.len < 2048)
		head_add(c, "Location: %s?%.*s\r\n", enc, (int)c->req.query.len, q);
	else
		head_add(c, "Location: %s\r\n", enc);
	head_add(c, "Content-Length: 0\r\n");
	/* Not a 301 without its Location: the URI is too long to send back. */
	if (c->out_full)
		return send_error(c, 414, 1);
	head_end(c);
	c->state = C_SEND;
	c->deadline = loop_now + (uint64_t)F.conf.send_timeout * 1000;
}

/* Weak comparison of an If-None-Match list against our tag; '*' matches. */
static int
etag_match(struct http_str list, const char *tag)
{
	size_t		 tl = strlen(tag), i = 0;
	const char	*p = list.p;

	while (i < list.len) {
		size_t start, end;

		while (i < list.len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		if (i < list.len && p[i] == '*')
			return 1;
		if (i + 2 <= list.len && p[i] == 'W' && p[i + 1] == '/')
			i += 2;
		start = i;
		if (i < list.len && p[i] == '"') {
			i++;
			while (i < list.len && p[i] != '"')
				i++;
			if (i < list.len)
				i++;
		} else
			while (i < list.len && p[i] != ',')
				i++;
		end = i;
		if (end - start == tl && memcmp(p + start, tag, tl) == 0)
			return 1;
		while (i < list.len && p[i] != ',')
			i++;
	}
	return 0;
}

/*
 * Send an open file: the head comes from our own fstat of it, never from
 * what the worker said.  The descriptor is ours to close.
 */
static void
send_file(struct conn *c, int fd, const char *ctype, const struct stat *stp)
{
	struct stat	st = *stp;
	char		etag[64], lastmod[30];
	off_t		off = 0, count;
	int		status = 200, r;

	count = st.st_size;
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)st.st_mtim.tv_sec * 1000000ULL +
	    (unsigned long long)st.st_mtim.tv_nsec / 1000, (unsigned long long)st.st_size);
	http_format_date(st.st_mtime, lastmod);

	if (c->req.if_none_match.p != NULL) {
		if (etag_match(c->req.if_none_match, etag))
			status = 304;
	} else if (c->req.if_modified_since.p != NULL) {
		time_t ims = http_parse_date(c->req.if_modified_since.p,
		    c->req.if_modified_since.len);

		if (ims != (time_t)-1 && st.st_mtime <= ims)
			status = 304;
	}
	if (status == 200 && c->req.range.p != NULL && c->req.method == HTTP_M_GET) {
		int use = 1;

		if (c->req.if_range.p != NULL) {
			if (c->req.if_range.p[0] == '"')
				use = c->req.if_range.len == strlen(etag) &&
				    memcmp(c->req.if_range.p, etag, strlen(etag)) == 0;
			else
				use = http_parse_date(c->req.if_range.p, c->req.if_range.len) ==
				    st.st_mtime;
		}
		if (use) {
			r = http_parse_range(c->req.range.p, c->req.range.len, st.st_size,
			    &off, &count);
			if (r == -1) {
				close(fd);
				c->keep_alive = c->keep_alive && 1;
				head_begin(c, 416);
				head_add(c, "Content-Range: bytes */%lld\r\nContent-Length: 0\r\n",
				    (long long)st.st_size);
				head_end(c);
				c->state = C_SEND;
				return;
			}
			if (r == 1)
				status = 206;
			else {
				off = 0;
				count = st.st_size;
			}
		}
	}

	head_begin(c, status);
	if (status == 304) {
		head_add(c, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lastmod);
		head_end(c);
		close(fd);
		c->state = C_SEND;
		return;
	}
	head_add(c, "Content-Type: %s\r\nContent-Length: %lld\r\nLast-Modified: %s\r\n"
	    "ETag: %s\r\nAccept-Ranges: bytes\r\n", ctype, (long long)count, lastmod, etag);
	if (status == 206)
		head_add(c, "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)off,
		    (long long)(off + count - 1), (long long)st.st_size);
	head_end(c);
	if (c->req.method == HTTP_M_HEAD || count == 0) {
		close(fd);
	} else {
		c->file_fd = fd;
		c->file_off = off;
		c->file_left = count;
	}
	c->state = C_SEND;
	c->deadline = loop_now + (uint64_t)F.conf.send_timeout * 1000;
}

/* ------------------------------------------------------------ requests */

static void
request_done(struct conn *c)
{
	log_access(c);
	c->have_req = 0;
	c->status = 0;
	c->body_bytes = 0;
	c->body_pending = 0;
	c->continued = 0;
	body_drop(c);
	c->retried = 0;
	c->fcgi_retried = 0;
	free(c->scr);
	c->scr = NULL;
	if (!c->keep_alive) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c);
		return;
	}
	/* Keep what the client pipelined after this request. */
	if (c->pos < c->inlen)
		memmove(c->in, c->in + c->pos, c->inlen - c->pos);
	c->inlen -= c->pos;
	c->pos = 0;
	c->head_len = 0;
	c->state = C_READ_HEAD;
	c->deadline = loop_now + (uint64_t)(c->inlen ? F.conf.header_timeout :
	    F.conf.keepalive_timeout) * 1000;
	if (F.stopping && c->inlen == 0)
		conn_close(c);
	else
		conn_run(c);
}

/* Route a parsed head; the body (if any) is read before the worker is asked. */
static void
request_route(struct conn *c)
{
	struct route_result	 rr;
	enum route_status	 rs;

	c->nreq++;
	c->started = time(NULL);
	c->keep_alive = c->req.keep_alive;
	c->body_pending = c->req.content_length > 0 || c->req.chunked;
	c->locker[0] = '\0';
	if (c->req.method == HTTP_M_UNKNOWN)
		return send_error(c, 501, 0);
	if (c->req.method == HTTP_M_CONNECT || c->req.method == HTTP_M_TRACE)
		return send_error(c, 405, 0);
	if (c->req.method == HTTP_M_OPTIONS && c->req.path.p != NULL &&
	    c->req.path.len == 1 && c->req.path.p[0] == '*') {
		/* "OPTIONS *": the server's own options. */
		head_begin(c, 200);
		head_add(c, "Allow: GET, HEAD, POST, OPTIONS\r\nContent-Length: 0\r\n");
		head_end(c);
		c->state = C_SEND;
		return;
	}
	if (c->req.path.p == NULL ||
	    http_normalize_path(c->req.path.p, c->req.path.len, c->path, sizeof(c->path)) < 0)
		return send_error(c, 400, 0);
	if (F.routes == NULL)
		return send_error(c, 503, 1);
	rs = route_lookup(F.routes, c->req.host.p ? c->req.host.p : "",
	    c->req.host.p ? c->req.host.len : 0, c->path, &rr);
	if (rs != ROUTE_LOCKER)
		return send_error(c, rs == ROUTE_UNKNOWN_HOST && c->req.host.p &&
		    route_canon_host(c->req.host.p, c->req.host.len, rr.fs_path,
		    sizeof(rr.fs_path)) == -1 ? 400 : 404, 1);
	memcpy(c->locker, rr.locker, sizeof(c->locker));
	memcpy(c->url_prefix, rr.url_prefix, sizeof(c->url_prefix));
	memcpy(c->fs_path, rr.fs_path, sizeof(c->fs_path));
	if (rr.fs_path[0] == '\0')
		return send_redirect(c, c->path);

	c->redirects = 0;
	if (c->body_pending) {
		if (c->req.content_length > 0 &&
		    (uint64_t)c->req.content_length > F.conf.max_body_size)
			return send_error(c, 413, 0);
		body_expect(c);
		/* The worker is asked only once the body is all in (body.c). */
		return body_hold_begin(c);
	}
	dispatch_worker(c);
}

/* Where the next body bytes start: Content-Length's count or chunks. */
static void
body_expect(struct conn *c)
{
	c->body_left = c->req.content_length > 0 ? c->req.content_length : 0;
	c->body_chunked = c->req.chunked;
	c->body_seen = 0;
	if (c->body_chunked)
		http_chunked_init(&c->chunk);
}

/*
 * A body's deadline: body-timeout after the last bytes came, and never
 * past body-total-timeout after it began, so that a client dripping it a
 * byte at a time, each in time, gets 408 all the same.
 */
static void
body_deadline_begin(struct conn *c)
{
	c->body_deadline = loop_now + (uint64_t)F.conf.body_total_timeout * 1000;
	body_deadline_renew(c);
}

static void
body_deadline_renew(struct conn *c)
{
	uint64_t pause = loop_now + (uint64_t)F.conf.body_timeout * 1000;

	c->deadline = pause < c->body_deadline ? pause : c->body_deadline;
}

/* Hold the body whole before the worker is asked to run anything (body.c). */
static void
body_hold_begin(struct conn *c)
{
	c->body_keep = 1;
	body_deadline_begin(c);
	c->state = C_READ_BODY;
	if (c->req.expect_continue && c->req.version_minor == 1 && !c->continued) {
		send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
		c->continued = 1;
	}
	/* Too large for memory whatever comes: the spool at once. */
	if (c->req.content_length > BODY_MEM_MAX)
		body_ask_spool(c);
}

/* Ask the locker's worker for a file to hold a large body in. */
static void
body_ask_spool(struct conn *c)
{
	struct wchan *w;

	if ((w = wchan_get(c->locker)) == NULL)
		return send_error(c, 503, 0);
	c->want_spool = 1;
	worker_send(c, w, 0);
}

/* The worker's answer to body_ask_spool(): anything but an empty regular file is refused. */
static void
body_got_spool(struct conn *c, const struct wire_response *r, int fd)
{
	struct stat st;

	c->want_spool = 0;
	if (r->kind != WIRE_SPOOL || fd == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_size != 0) {
		if (fd != -1)
			close(fd);
		return send_error(c, r->kind == WIRE_STATUS && (r->status == 500 ||
		    r->status == 503) ? r->status : 502, 0);
	}
	if (body_spool(&c->body, fd) == -1) {
		close(fd);
		return send_error(c, 500, 0);
	}
	c->state = C_READ_BODY;
	body_deadline_renew(c);
}

/* The body held is not for any script after all: free it. */
static void
body_drop(struct conn *c)
{
	body_free(&c->body);
	c->body_keep = 0;
	c->want_spool = 0;
}

/* The whole body is in: from here on it has a length, whatever its framing was. */
static void
body_held(struct conn *c)
{
	c->body_keep = 0;
	c->body_pending = 0;
	c->req.content_length = (int64_t)c->body.len;
	c->req.chunked = 0;
	c->retried = 0;
	dispatch_worker(c);
}


/*
 * Consume body bytes already in the buffer, into c->body when it is held
 * for a script: 1 when the body is complete, 0 for more, -1 for a
 * malformed chunk, -2 for a body over the limit, -3 when the rest needs a
 * spool first, -4 when the spool refused bytes.
 */
static int
body_consume(struct conn *c)
{
	size_t avail = c->inlen - c->pos, room = avail;

	/* What may follow a Content-Length body is the next request's. */
	if (!c->body_chunked && (uint64_t)c->body_left < avail)
		avail = room = (size_t)c->body_left;
	if (c->body_keep && avail > 0 && (room = body_room(&c->body, avail)) == 0)
		return -3;
	if (c->body_chunked) {
		size_t	out;
		ssize_t	used = http_chunked_decode(&c->chunk, c->in + c->pos, room, &out);

		if (used < 0)
			return -1;
		if (c->body_seen + out > F.conf.max_body_size)
			return -2;
		if (c->body_keep && body_append(&c->body, c->in + c->pos, out) == -1)
			return -4;
		c->pos += (size_t)used;
		c->body_seen += out;
		if (c->chunk.done)
			return 1;
		if (used == 0 && room < avail)
			return -3;	/* what memory holds was not enough to go on */
	} else {
		size_t take = (uint64_t)c->body_left < room ? (size_t)c->body_left : room;

		if (c->body_keep && body_append(&c->body, c->in + c->pos, take) == -1)
			return -4;
		c->pos += take;
		c->body_left -= (int64_t)take;
		if (c->body_left == 0)
			return 1;
	}
	/* Nothing of the body needs keeping: reuse the space after the head. */
	if (c->pos == c->inlen)
		c->pos = c->inlen = c->head_len;
	return 0;
}

static void
parse_head(struct conn *c)
{
	int r = http_parse_head(c->in, c->inlen, &F.limits, &c->req);

	if (r == 0)
		return;
	c->have_req = 1;
	if (r < 0) {
		/* Nothing after a bad head can be trusted to be a request. */
		c->req.method = HTTP_M_UNKNOWN;
		c->req.method_str.p = NULL;
		c->nreq++;
		c->started = time(NULL);
		c->locker[0] = '\0';
		send_error(c, -r, 0);
		return;
	}
	c->head_len = c->pos = (size_t)r;
	request_route(c);
}

static int
read_more(struct conn *c)
{
	ssize_t n;

	if (c->in == NULL) {
		c->insz = F.conf.max_header_size + 4096;
		if ((c->in = malloc(c->insz)) == NULL)
			return -1;
	}
	if (c->inlen == c->insz)
		return 1;	/* full: the parser will refuse with 431 */
	/*
	 * Edge-triggered: a short read drained the socket, and new bytes bring
	 * a new event, so the recv() that would only say EAGAIN is skipped.
	 */
	if (!c->readable)
		return 0;
	n = recv(c->fd, c->in + c->inlen, c->insz - c->inlen, 0);
	if (n > 0) {
		if ((size_t)n < c->insz - c->inlen && !c->rdhup)
			c->readable = 0;
		c->inlen += (size_t)n;
		return 1;
	}
	if (n == 0)
		return -1;
	if (errno == EAGAIN || errno == EINTR) {
		c->readable = 0;
		return 0;
	}
	return -1;
}

/* Write the head, then the file; 1 when done, 0 when the socket is full. */
static int
send_some(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | (c->file_fd != -1 ? MSG_MORE : 0));

		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->outoff += (size_t)n;
	}
	while (c->file_fd != -1 && c->file_left > 0) {
		ssize_t n = sendfile(c->fd, c->file_fd, &c->file_off,
		    c->file_left > (1 << 20) ? (1 << 20) : (size_t)c->file_left);

		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		if (n == 0)
			return -1;	/* the file shrank under us: the length is a lie now */
		c->file_left -= n;
		c->body_bytes += n;
		c->deadline = loop_now + (uint64_t)F.conf.send_timeout * 1000;
	}
	if (c->file_fd != -1) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	return 1;
}

static void
conn_run(struct conn *c)
{
	int r;

	for (;;) {
		switch (c->state) {
		case C_READ_HEAD:
			if (c->inlen > 0) {
				parse_head(c);
				if (c->state != C_READ_HEAD)
					continue;
			}
			if ((r = read_more(c)) == -1) {
				conn_close(c);
				return;
			}
			if (r == 0)
				return;
			break;
		case C_READ_BODY:
			if ((r = body_consume(c)) < 0) {
				if (r == -3 && c->body_keep) {
					body_ask_spool(c);
					continue;
				}
				send_error(c, r == -2 || (r == -4 && (errno == EDQUOT ||
				    errno == ENOSPC || errno == EFBIG)) ? 413 : r == -4 ? 500 : 400, 0);
				continue;
			}
			if (r == 1 && c->body_keep) {
				body_held(c);
				continue;
			}
			/* Bytes left that memory had no room for: on to the spool. */
			if (r == 0 && c->body_keep && c->pos < c->inlen)
				continue;
			if (r == 1) {
				c->body_pending = 0;
				c->then_send = 0;
				c->state = C_SEND;
				c->deadline = loop_now + (uint64_t)F.conf.send_timeout * 1000;
				continue;
			}
			/* A client gone before the end of its body: nothing runs. */
			if ((r = read_more(c)) == -1) {
				conn_close(c);
				return;
			}
			if (r == 0)
				return;
			body_deadline_renew(c);
			break;
		case C_WAIT_WORKER:
		case C_WAIT_FCGI:
			return;
		case C_CGI: {
			unsigned gen = c->cgi_gen;

			cgi_run(c);
			/* It may have answered otherwise (an error, a redirect), or
			 * started another script (a redirect, a retry): run that. */
			if (c->closed || (c->state == C_CGI && c->cgi_gen == gen))
				return;
			continue;
		}
		case C_SEND:
			/*
			 * An unread body would be taken for the next request: read
			 * and drop it before answering, or close after the answer.
			 */
			if (c->body_pending && c->keep_alive) {
				if (c->req.expect_continue && c->req.version_minor == 1 &&
				    !c->continued)
					send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
				c->continued = 1;
				body_drop(c);
				c->then_send = 1;
				c->state = C_READ_BODY;
				body_deadline_begin(c);
				continue;
			}
			if ((r = send_some(c)) == -1) {
				conn_close(c);
				return;
			}
			if (r == 0)
				return;
			request_done(c);
			return;
		}
	}
}

/* ------------------------------------------------------------ workers */

/* Channels by locker name: every request not served from the file cache
 * looks its locker's up, among as many as there are active lockers. */
#define WCHAN_BUCKETS	4096
static struct wchan_list	wbuckets[WCHAN_BUCKETS];

static struct wchan_list *
wchan_bucket(const char *locker)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*locker != '\0')
		h = (h ^ (unsigned char)*locker++) * 16777619u;
	return &wbuckets[h % WCHAN_BUCKETS];
}

static struct wchan *
wchan_find(const char *locker)
{
	struct wchan *w;

	LIST_FOREACH(w, wchan_bucket(locker), hlink)
		if (!w->dead && strcmp(w->locker, locker) == 0)
			return w;
	return NULL;
}

/* How many kept pool connections this front may hold for w's locker. */
static unsigned
wchan_share(const struct wchan *w)
{
	return fcgi_front_share_of(w->max_scripts ? w->max_scripts : F.conf.max_scripts,
	    (unsigned)F.conf.nfronts);
}

/* A script's time limit: its locker's own, or the configuration's. */
static unsigned
script_limit(const char *locker)
{
	const struct wchan *w = wchan_find(locker);

	return w != NULL && w->script_timeout ? w->script_timeout : F.conf.script_timeout;
}

static struct wchan *
wchan_get(const char *locker)
{
	struct wchan		*w;
	struct msg_worker	 m;

	if ((w = wchan_find(locker)) != NULL)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->kind = K_WCHAN;
	w->fd = -1;
	w->log_rate = LOG_LIMIT_DEFAULT;
	bucket_fill(&w->errb, F.conf.log_rate * 2, loop_now);
	TAILQ_INIT(&w->wq);
	TAILQ_INIT(&w->fq);
	snprintf(w->locker, sizeof(w->locker), "%s", locker);
	LIST_INSERT_HEAD(wchan_bucket(w->locker), w, hlink);
	memset(&m, 0, sizeof(m));
	memcpy(m.locker, w->locker, sizeof(m.locker));
	if (msg_send(F.master, MSG_WORKER_GET, &m, sizeof(m), -1) == -1)
		log_warn("front: ask master for worker %s", locker);
	return w;
}

static void
wchan_free(struct wchan *w)
{
	LIST_REMOVE(w, hlink);
	if (w->fd != -1) {
		epoll_ctl(F.epfd, EPOLL_CTL_DEL, w->fd, NULL);
		close(w->fd);
		w->fd = -1;
	}
	if (w->kick) {
		LIST_REMOVE(w, klink);
		w->kick = 0;
	}
	if (w->dirty) {
		LIST_REMOVE(w, flink);
		w->dirty = 0;
	}
	w->dead = 1;
	LIST_INSERT_HEAD(&F.dead_wchans, w, hlink);
	/* Its pool goes with its worker: idle connections now, busy ones when done. */
	while (w->kconns != NULL) {
		struct kconn *k = w->kconns;

		w->kconns = k->next;
		k->w = NULL;
		if (k->owner == NULL) {
			k->next = NULL;
			kconn_drop(k);
		}
	}
	w->nk = 0;
}

/*
 * A locker's worker is what max-workers retires (the quietest first) and
 * what exits after worker-idle-timeout, and its PHP pool goes with it; both
 * decisions go by what the worker hears.  A PHP page on a pool connection
 * front keeps never passes through the worker, so a locker whose only work
 * was one long page looked idle and lost it (502).  So while a request of
 * a locker is in flight here, front says so to that locker's worker
 * (MSG_BUSY, no payload, at most once a second per locker and channel),
 * which counts it as a request and tells the master (MSG_ACTIVE) as for
 * any other work.  Telling the worker rather than the master keeps one
 * source of "busy", needs no new message the master must check, keeps the
 * worker's own idle exit right, and reaches exactly the worker whose pool
 * runs the request (after a retire, the locker's new worker is another).
 */
#define BUSY_EVERY_MS	1000	/* the master counts 2 s of silence as quiet */
#define BUSY_WALK_MS	250	/* how often in-flight requests are looked at */

static void
wchan_busy(struct wchan *w)
{
	if (w == NULL || w->dead || w->fd == -1 || loop_now - w->told_busy < BUSY_EVERY_MS)
		return;
	/* A full channel holds requests of ours, which say the same. */
	if (msg_send(w->fd, MSG_BUSY, NULL, 0, -1) == 0)
		w->told_busy = loop_now;
}

/* Every request waiting for, or running in, a locker's worker or pool. */
static void
busy_tell_all(void)
{
	struct conn *c;

	F.busy_walked = loop_now;
	F.busy_seen = 0;
	for (c = F.conns; c != NULL; c = c->next) {
		if (c->closed)
			continue;
		if (c->kc != NULL) {
			wchan_busy(c->kc->w);	/* the pool's own worker */
			F.busy_seen = 1;
		} else if (c->state == C_WAIT_WORKER || c->state == C_WAIT_FCGI ||
		    (c->state == C_CGI && !c->detached)) {
			/* (An answer held after its script went needs no worker.) */
			wchan_busy(wchan_find(c->locker));
			F.busy_seen = 1;
		}
	}
}

/*
 * Write the queued requests not yet sent, many per system call; stop at a
 * full channel (EPOLLOUT brings us back).
 */
/* Append one string of a request message; 0 if it did not fit. */
static int
pack_str(char *buf, size_t cap, size_t *off, struct wire_request *r, enum wire_str i,
    const char *p, size_t len)
{
	if (len > cap - *off)
		return 0;
	if (len)
		memcpy(buf + *off, p, len);
	*off += len;
	r->len[i] = (uint32_t)len;
	return 1;
}

/* The request as the worker needs it; its length, or 0 if it does not fit. */
static size_t
wire_pack(struct conn *c, char *buf, size_t cap)
{
	struct wire_request	*r = (struct wire_request *)buf;
	struct http_request	*q = &c->req;
	size_t			 off = sizeof(*r), i, hl = 0;
	char			*h;

	if (cap < sizeof(*r))
		return 0;
	memset(r, 0, sizeof(*r));
	r->id = c->req_id;
	r->method = (uint8_t)q->method;
	r->version_minor = (uint8_t)q->version_minor;
	r->remote_port = c->peer_port;
	r->local_port = c->local_port;
	r->content_length = q->chunked ? -1 : q->content_length;
	if (cgi_body_len(c) > 0)
		r->flags |= WREQ_BODY;
	if (c->want_conn)
		r->flags |= WREQ_CONNECT;
	if (c->want_spool || c->want_rspool)
		r->flags |= WREQ_SPOOL;
	if (!pack_str(buf, cap, &off, r, WS_PATH, c->fs_path, strlen(c->fs_path)) ||
	    !pack_str(buf, cap, &off, r, WS_URL, c->path, strlen(c->path)) ||
	    !pack_str(buf, cap, &off, r, WS_TARGET, q->target.p, q->target.len) ||
	    !pack_str(buf, cap, &off, r, WS_QUERY, q->query.p, q->query.p ? q->query.len : 0) ||
	    !pack_str(buf, cap, &off, r, WS_HOST, q->host.p, q->host.p ? q->host.len : 0) ||
	    !pack_str(buf, cap, &off, r, WS_PREFIX, c->url_prefix, strlen(c->url_prefix)) ||
	    !pack_str(buf, cap, &off, r, WS_METHOD, c->redirects ? "GET" : q->method_str.p,
	    c->redirects ? 3 : q->method_str.len) ||
	    !pack_str(buf, cap, &off, r, WS_REMOTE, c->peer, strlen(c->peer)) ||
	    !pack_str(buf, cap, &off, r, WS_LOCAL, c->local, strlen(c->local)))
		return 0;
	/* Header fields as "name: value\n": values were checked to hold no LF. */
	h = buf + off;
	for (i = 0; i < q->nheaders; i++) {
		const struct http_header *f = &q->headers[i];
		size_t need = f->name.len + 2 + f->value.len + 1;

		if (need > cap - off - hl)
			return 0;
		memcpy(h + hl, f->name.p, f->name.len);
		hl += f->name.len;
		h[hl++] = ':';
		h[hl++] = ' ';
		memcpy(h + hl, f->value.p, f->value.len);
		hl += f->value.len;
		h[hl++] = '\n';
	}
	r->len[WS_HEADERS] = (uint32_t)hl;
	return off + hl;
}

/*
 * Write the queued requests not yet sent, many per system call; stop at a
 * full channel (EPOLLOUT brings us back).
 */
static void
wchan_flush(struct wchan *w)
{
	static char	 scratch[CHAN_BATCH * 2048 + MSG_MAX_PAYLOAD];
	struct msg_out	 out[CHAN_BATCH];
	struct conn	*batch[CHAN_BATCH], *c, *next;
	size_t		 used, len;
	int		 n, k, i;

	if (w->fd == -1 || w->dead)
		return;
	for (c = TAILQ_FIRST(&w->wq); c != NULL && c->sent; c = TAILQ_NEXT(c, wlink))
		;
	while (c != NULL) {
		used = 0;
		for (n = 0; c != NULL && n < CHAN_BATCH; c = next) {
			next = TAILQ_NEXT(c, wlink);
			len = wire_pack(c, scratch + used, sizeof(scratch) - used < MSG_MAX_PAYLOAD ?
			    sizeof(scratch) - used : MSG_MAX_PAYLOAD);
			if (len == 0) {
				if (n > 0)
					break;	/* no room left in this batch */
				wchan_dequeue(w, c);
				if (c->want_rspool) {
					resp_spool_refused(c);
					conn_run(c);
					continue;
				}
				/* Too big for any message: this request alone fails. */
				send_error(c, 431, 0);
				conn_run(c);
				continue;
			}
			out[n].type = MSG_REQUEST;
			out[n].data = scratch + used;
			out[n].len = len;
			out[n].fd = -1;
			used += (len + 7) & ~(size_t)7;
			batch[n++] = c;
		}
		if (n == 0)
			return;
		k = msg_send_many(w->fd, out, n);
		if (k == -1) {
			if (errno != EAGAIN)
				wchan_fail(w, 502);
			return;
		}
		for (i = 0; i < k; i++)
			batch[i]->sent = 1;
		if (k < n)
			return;
	}
}

static void
flush_all(void)
{
	struct wchan *w;

	while ((w = LIST_FIRST(&F.flush)) != NULL) {
		LIST_REMOVE(w, flink);
		w->dirty = 0;
		wchan_flush(w);
	}
}

/* ------------------------------------------------------------ file cache */

/*
 * Descriptors a worker opened are kept for a short while (file-cache-valid)
 * so that a hot file does not cost a round trip to the worker each time, as
 * nginx's open_file_cache does.  front still opens nothing: it reuses what
 * the locker's worker opened.  An entry is dropped as soon as its file
 * changes (ctime: chmod, chown, a write) or is unlinked or replaced
 * (nlink 0), when the routing table changes, and when it ages out.
 */
#define FCACHE_SLOTS	1024

/*
 * One slot of front's caches: open files (fcache, below) and how workers
 * resolved FastCGI scripts (scache).  Both are keyed by "locker\0fs_path",
 * direct-mapped (a collision replaces), and age out at expires.
 */
struct cache_ent {
	char		*key;		/* "locker\0fs_path", NULL: empty */
	size_t		 keylen;
	uint64_t	 expires;
	/* fcache: the open file, its type, and its ctime when opened */
	int		 fd;
	char		 ctype[128];
	struct timespec	 ctime;
	/* scache: the worker's resolution */
	struct fres	*r;
};

static struct cache_ent fcache[FCACHE_SLOTS];

static uint64_t
fcache_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
	return h;
}

static size_t
cache_key(const struct conn *c, char *buf, size_t bufsz)
{
	size_t ll = strlen(c->locker), pl = strlen(c->fs_path);

	if (ll + 1 + pl > bufsz)
		return 0;
	memcpy(buf, c->locker, ll + 1);
	memcpy(buf + ll + 1, c->fs_path, pl);
	return ll + 1 + pl;
}

static void
cache_drop(struct cache_ent *e)
{
	if (e->key == NULL)
		return;
	if (e->r == NULL)
		close(e->fd);
	free(e->r);
	free(e->key);
	e->key = NULL;
	e->r = NULL;
}

static void
cache_clear(struct cache_ent *tab)
{
	size_t i;

	for (i = 0; i < FCACHE_SLOTS; i++)
		cache_drop(&tab[i]);
}

/* c's entry in tab if there is a live one (an expired one is dropped). */
static struct cache_ent *
cache_get(struct cache_ent *tab, const struct conn *c)
{
	char			 key[LOCKER_NAME_MAX + 1 + sizeof(c->fs_path)];
	size_t			 kl;
	struct cache_ent	*e;

	if ((kl = cache_key(c, key, sizeof(key))) == 0)
		return NULL;
	e = &tab[fcache_hash(key, kl) % FCACHE_SLOTS];
	if (e->key == NULL || e->keylen != kl || memcmp(e->key, key, kl) != 0)
		return NULL;
	if (loop_now >= e->expires) {
		cache_drop(e);
		return NULL;
	}
	return e;
}

/* c's slot in tab, emptied and keyed for c, valid for valid_ms; or NULL. */
static struct cache_ent *
cache_claim(struct cache_ent *tab, const struct conn *c, uint64_t valid_ms)
{
	char			 key[LOCKER_NAME_MAX + 1 + sizeof(c->fs_path)];
	size_t			 kl;
	struct cache_ent	*e;

	if ((kl = cache_key(c, key, sizeof(key))) == 0)
		return NULL;
	e = &tab[fcache_hash(key, kl) % FCACHE_SLOTS];
	cache_drop(e);
	if ((e->key = malloc(kl)) == NULL)
		return NULL;
	memcpy(e->key, key, kl);
	e->keylen = kl;
	e->expires = loop_now + valid_ms;
	return e;
}

/* Serve from the cache; 1 if it did. */
static int
fcache_serve(struct conn *c)
{
	struct cache_ent	*e;
	struct stat		 st;
	int			 fd;

	if (F.conf.file_cache_valid == 0 || (e = cache_get(fcache, c)) == NULL)
		return 0;
	if (fstat(e->fd, &st) == -1 || st.st_nlink == 0 ||
	    st.st_ctim.tv_sec != e->ctime.tv_sec || st.st_ctim.tv_nsec != e->ctime.tv_nsec) {
		cache_drop(e);
		return 0;
	}
	if ((fd = dup(e->fd)) == -1)
		return 0;
	send_file(c, fd, e->ctype, &st);
	return 1;
}

static void
fcache_put(const struct conn *c, int fd, const char *ctype, const struct stat *st)
{
	struct cache_ent	*e;
	int			 dfd;

	if (F.conf.file_cache_valid == 0 ||
	    (dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	if ((e = cache_claim(fcache, c, (uint64_t)F.conf.file_cache_valid * 1000)) == NULL) {
		close(dfd);
		return;
	}
	e->fd = dfd;
	snprintf(e->ctype, sizeof(e->ctype), "%s", ctype);
	e->ctime = st->st_ctim;
}

/* Put the message for the worker in w's queue, to go at the end of the round. */
static void
worker_queue(struct conn *c, struct wchan *w)
{
	c->req_id = ++F.next_id;
	c->sent = 0;
	c->wc = w;
	TAILQ_INSERT_TAIL(&w->wq, c, wlink);
	/* Written at the end of this round, with every other request for it. */
	if (!w->dirty) {
		w->dirty = 1;
		LIST_INSERT_HEAD(&F.flush, w, flink);
	}
}

/* Queue the request for the locker's worker; with want, ask for a pool connection. */
static void
worker_send(struct conn *c, struct wchan *w, int want)
{
	c->want_conn = want;
	if (want)
		w->npending++;
	c->state = C_WAIT_WORKER;
	c->deadline = loop_now + (uint64_t)F.conf.worker_timeout * 1000;
	worker_queue(c, w);
}

static int	scache_get(struct conn *c);
static void	fcgi_acquire(struct conn *c, struct wchan *w);

static void
dispatch_worker(struct conn *c)
{
	struct wchan *w;

	free(c->scr);
	c->scr = NULL;
	if ((c->req.method == HTTP_M_GET || c->req.method == HTTP_M_HEAD) && fcache_serve(c))
		return;
	if ((w = wchan_get(c->locker)) == NULL)
		return send_error(c, 503, 1);
	/* A FastCGI script resolved a moment ago goes straight to its pool. */
	if (!c->req.chunked && scache_get(c))
		return fcgi_acquire(c, w);
	worker_send(c, w, w->nk + w->npending < wchan_share(w));
}

/*
 * The channel is gone (a worker crashed, went idle, or misbehaved).
 * Requests without an answer are re-sent once on a fresh channel: static
 * requests are idempotent.
 */
static void
wchan_fail(struct wchan *w, int status)
{
	struct conn *c;

	w->dead = 1;
	/* A retried request joins a fresh channel's queue, never this one. */
	while ((c = TAILQ_FIRST(&w->wq)) != NULL) {
		TAILQ_REMOVE(&w->wq, c, wlink);
		c->wc = NULL;
		if (c->want_rspool) {
			/* An answer going out: it goes on without a spool. */
			resp_spool_refused(c);
			conn_run(c);
			continue;
		}
		if (status == 0 && !c->retried) {
			c->retried = 1;
			if (c->want_spool)
				body_ask_spool(c);
			else
				dispatch_worker(c);
		} else {
			c->want_spool = 0;
			send_error(c, status ? status : 502, 1);
			conn_run(c);
		}
	}
	/* Those waiting for a pool connection never reached the worker. */
	while ((c = TAILQ_FIRST(&w->fq)) != NULL) {
		fq_remove(c);
		dispatch_worker(c);
	}
	wchan_free(w);
}

static int
ctype_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	return n > 0 && n < max && http_valid_field_value(s, n) && strchr(s, '/') != NULL;
}

static struct fres	*fres_parse(const struct wire_response *r, size_t len);
static void		 scache_put(const struct conn *c, const struct fres *r);
static void		 fcgi_begin(struct conn *c, struct kconn *kc);
static struct kconn	*kconn_new(struct wchan *w, int fd, const char *ext);

/* A FastCGI script: build its request here, on a pool connection. */
static void
fcgi_response(struct wchan *w, struct conn *c, const struct wire_response *r, size_t len,
    int fd, int asked)
{
	struct kconn *kc;

	if ((c->scr = fres_parse(r, len)) == NULL) {
		log_warnx("front: bad FastCGI answer from worker %s", w->locker);
		if (fd != -1)
			close(fd);
		return send_error(c, 502, 1);
	}
	if (fd != -1 && !asked) {
		close(fd);	/* a connection we did not ask for would be over our share */
		return send_error(c, 502, 1);
	}
	scache_put(c, c->scr);
	if (fd == -1)
		return fcgi_acquire(c, w);
	if ((kc = kconn_new(w, fd, c->scr->ext)) == NULL)
		return send_error(c, 503, 1);
	fcgi_begin(c, kc);
}

static void
handle_response(struct wchan *w, const struct wire_response *r, size_t len, int fd)
{
	struct conn	*c;
	int		 asked;

	TAILQ_FOREACH(c, &w->wq, wlink)
		if (c->req_id == r->id && c->sent)
			break;
	if (c == NULL) {
		/* An answer to a request that timed out, or a lie. */
		if (fd != -1)
			close(fd);
		return;
	}
	asked = c->want_conn;
	wchan_dequeue(w, c);
	if (c->want_spool) {
		body_got_spool(c, r, fd);
		conn_run(c);
		return;
	}
	if (c->want_rspool) {
		resp_got_spool(c, r, fd);
		conn_run(c);
		return;
	}
	if (r->kind != WIRE_FCGI && len != sizeof(*r)) {
		if (fd != -1)
			close(fd);
		fd = -1;
		send_error(c, 502, 1);
		conn_run(c);
		return;
	}
	switch (r->kind) {
	case WIRE_FILE:
		if (fd == -1 || !ctype_ok(r->content_type, sizeof(r->content_type))) {
			if (fd != -1)
				close(fd);
			send_error(c, 502, 1);
			break;
		}
		{
			struct stat st;

			if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
				send_error(c, 502, 1);
				break;
			}
			if (!c->body_pending)
				fcache_put(c, fd, r->content_type, &st);
			send_file(c, fd, r->content_type, &st);
			fd = -1;
		}
		break;
	case WIRE_SLASH:
		send_redirect(c, c->path);
		break;
	case WIRE_CGI:
	case WIRE_CGI_NPH:
		if (fd == -1) {
			send_error(c, 502, 1);
			break;
		}
		c->fcgi = 0;
		cgi_start(c, fd, r->kind == WIRE_CGI_NPH, NULL, 0);
		fd = -1;
		break;
	case WIRE_FCGI:
		fcgi_response(w, c, r, len, fd, asked);
		fd = -1;
		break;
	case WIRE_STATUS:
		if (r->status == 403 || r->status == 404 || r->status == 405 ||
		    r->status == 500 || r->status == 503 || r->status == 502)
			send_error(c, r->status, 1);
		else
			send_error(c, 502, 1);
		break;
	default:
		send_error(c, 502, 1);
	}
	if (fd != -1)
		close(fd);
	conn_run(c);
}


/* ------------------------------------------------------------ scripts */

#define CGI_BUF		(64 * 1024)
#define CGI_MAX_HEAD	(16 * 1024)
#define CGI_MAX_REDIRECTS 10

static void	fcgi_stderr_end(struct conn *c);
static int	resp_fill(struct conn *c);
static int	resp_send(struct conn *c);
static void	resp_fail(struct conn *c);
static void	cgi_detach(struct conn *c);
static void	upstream_release(struct conn *c);

/* The answer's spool and its place in the worker's queue go with it. */
static void
resp_end(struct conn *c)
{
	if (c->want_rspool && c->wc != NULL)
		wchan_dequeue(c->wc, c);
	c->want_rspool = 0;
	respbuf_free(&c->rb);
	c->sp_piece = 0;
	c->sp_data = 0;
	c->detached = 0;
}

static void
cgi_end(struct conn *c)
{
	upstream_release(c);
	free(c->cgi_buf);
	c->cgi_buf = NULL;
	c->cgi_len = c->cgi_off = c->up_len = c->up_off = 0;
	c->fraw_len = c->fraw_off = c->fpend_len = 0;
	resp_end(c);
}

static void
cgi_start(struct conn *c, int fd, int nph, const void *pre, size_t prelen)
{
	size_t upsz = CGI_BUF + FCGI_HEADER_LEN > prelen ? CGI_BUF + FCGI_HEADER_LEN : prelen;

	c->cgi_fd = c->kc ? fd : -1;
	if ((c->cgi_buf = malloc(CGI_BUF)) == NULL ||
	    ((cgi_body_len(c) || prelen) && (c->up = malloc(upsz)) == NULL) ||
	    (c->fcgi && (c->fraw = malloc(CGI_BUF)) == NULL)) {
		if (c->kc == NULL)
			close(fd);
		cgi_end(c);
		return send_error(c, 503, 1);
	}
	set_nonblock(fd);
	c->cgi_fd = fd;
	c->cgi_nph = nph;
	c->cgi_gen++;
	c->cgi_head_done = 0;
	c->cgi_readable = c->cgi_writable = 1;
	c->cgi_eof = 0;
	c->cgi_len = c->cgi_off = 0;
	c->up_len = c->up_off = 0;
	c->up_src = 0;
	if (prelen) {
		/* The FastCGI request's head goes up first, like body bytes. */
		memcpy(c->up, pre, prelen);
		c->up_len = prelen;
	}
	c->chunked_out = 0;
	c->out_left = -1;
	c->ck_hlen = c->ck_hoff = c->ck_data = c->ck_tail = c->ck_end = 0;
	c->ck_end_queued = 0;
	c->up_discard = 0;
	c->upload_done = cgi_body_len(c) == 0 && prelen == 0;
	c->fcgi_error = 0;
	c->fcgi_ended = 0;
	c->fcgi_stdin_ended = 0;
	c->fraw_len = c->fraw_off = c->fpend_len = 0;
	if (c->fcgi)
		fcgi_reader_init(&c->fr, 1);
	/* FastCGI ends stdin with an empty record (the worker sent it if there
	 * is no body), not by closing.  A body was held whole before (so
	 * "100 Continue" went out then). */
	if (c->upload_done && !c->fcgi)
		shutdown(fd, SHUT_WR);
	if (c->kc == NULL)
		ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->cgi_tag);
	c->state = C_CGI;
	c->script_s = script_limit(c->locker);
	c->deadline = loop_now + (uint64_t)c->script_s * 1000;
}

/*
 * Move the body held (c->body) toward the script: into c->up, as STDIN
 * records for FastCGI, and from there into the script's socket.  Returns
 * 1 on progress, 0 when blocked, -1 when the spool could not be read back.
 */
static int
cgi_upload(struct conn *c)
{
	int		framed = c->fcgi;	/* as STDIN records */
	size_t		hdr = framed ? FCGI_HEADER_LEN : 0;
	uint64_t	total = cgi_body_len(c);
	int		progress = 0;

	for (;;) {
		if (c->up_off < c->up_len) {
			ssize_t n;

			if (!c->cgi_writable)
				return progress;
			if (c->up_discard) {
				c->up_off = c->up_len;
				continue;
			}
			n = send(c->cgi_fd, c->up + c->up_off, c->up_len - c->up_off,
			    MSG_NOSIGNAL);
			if (n == -1) {
				if (errno == EAGAIN) {
					c->cgi_writable = 0;
					return progress;
				}
				/* The script stopped reading: the rest is dropped. */
				c->up_off = c->up_len;
				c->up_discard = 1;
				progress = 1;
				continue;
			}
			c->up_off += (size_t)n;
			progress = 1;
			continue;
		}
		c->up_off = c->up_len = 0;
		if (c->up_src < total && !c->up_discard && !(framed && c->fcgi_stdin_ended)) {
			ssize_t n = body_read(&c->body, c->up_src, c->up + hdr,
			    CGI_BUF - FCGI_HEADER_LEN);

			if (n <= 0)
				return -1;	/* the locker's spool shrank under us */
			c->up_src += (uint64_t)n;
			c->up_len = (size_t)n;
			if (hdr) {
				/* FastCGI: the piece goes up as one STDIN record. */
				fcgi_header((unsigned char *)c->up, FCGI_STDIN, 1,
				    (uint16_t)n, 0);
				c->up_len += hdr;
			}
			progress = 1;
			continue;
		}
		if (framed && !c->fcgi_stdin_ended && !c->up_discard) {
			/* The empty STDIN record that ends the body. */
			fcgi_header((unsigned char *)c->up, FCGI_STDIN, 1, 0, 0);
			c->up_len = FCGI_HEADER_LEN;
			c->fcgi_stdin_ended = 1;
			continue;
		}
		c->upload_done = 1;
		if (!c->up_discard && !framed)
			shutdown(c->cgi_fd, SHUT_WR);
		return 1;
	}
}

static void	fcgi_stderr(struct conn *c, const unsigned char *p, size_t len);

/*
 * FastCGI: take the STDOUT bytes out of the records the pool sends, into
 * dst; STDERR goes to the locker's error log; END_REQUEST is the end of
 * the output.
 */
static int
fcgi_take(struct conn *c, char *dst, size_t room)
{
	size_t got = 0;

	while (got < room) {
		const unsigned char	*data;
		size_t			 used, dlen, k;
		ssize_t			 n;

		if (c->fpend_len > 0) {
			k = c->fpend_len < room - got ? c->fpend_len : room - got;
			memcpy(dst + got, c->fpend, k);
			c->fpend += k;
			c->fpend_len -= k;
			got += k;
			continue;
		}
		if (c->fraw_off < c->fraw_len) {
			switch (fcgi_read(&c->fr, c->fraw + c->fraw_off, c->fraw_len - c->fraw_off,
			    &used, &data, &dlen)) {
			case FCGI_EV_STDOUT:
				c->fpend = data;
				c->fpend_len = dlen;
				break;
			case FCGI_EV_STDERR:
				fcgi_stderr(c, data, dlen);
				break;
			case FCGI_EV_END:
				c->cgi_eof = 1;
				c->fcgi_ended = 1;
				break;
			case FCGI_EV_ERROR:
				c->fcgi_error = 1;
				c->cgi_eof = 1;
				break;
			case FCGI_EV_MORE:
				break;
			}
			c->fraw_off += used;
			if (c->cgi_eof && c->fpend_len == 0)
				break;
			continue;
		}
		if (c->cgi_eof || !c->cgi_readable)
			break;
		c->fraw_off = c->fraw_len = 0;
		n = recv(c->cgi_fd, c->fraw, CGI_BUF, 0);
		if (n > 0)
			c->fraw_len = (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->cgi_eof = 1;
		else
			c->cgi_readable = 0;
	}
	return (int)got;
}

/* Read what the script wrote into dst; the bytes read. */
static int
cgi_read(struct conn *c, char *dst, size_t room)
{
	ssize_t n;

	if (c->fcgi)
		return room == 0 ? 0 : fcgi_take(c, dst, room);

	if (!c->cgi_readable || c->cgi_eof || room == 0)
		return 0;
	n = recv(c->cgi_fd, dst, room, 0);
	if (n > 0)
		return (int)n;
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->cgi_eof = 1;
		return 0;
	}
	c->cgi_readable = 0;
	return 0;
}

/* A Location: /path with no Status: the locker's own URL, served instead. */
static void
cgi_local_redirect(struct conn *c, struct http_str loc)
{
	struct route_result	rr;
	const char		*q = memchr(loc.p, '?', loc.len);
	size_t			plen = q ? (size_t)(q - loc.p) : loc.len;
	size_t			qlen = q ? loc.len - plen - 1 : 0;

	/* The location lives in the script's buffer, which goes with it. */
	if (++c->redirects > CGI_MAX_REDIRECTS ||
	    http_normalize_path(loc.p, plen, c->path, sizeof(c->path)) < 0) {
		cgi_end(c);
		return send_error(c, 500, 1);
	}
	free(c->redirect_query);
	if ((c->redirect_query = malloc(qlen + 1)) == NULL) {
		cgi_end(c);
		return send_error(c, 503, 1);
	}
	if (qlen)
		memcpy(c->redirect_query, q + 1, qlen);
	c->redirect_query[qlen] = '\0';
	cgi_end(c);
	if (route_lookup(F.routes, c->req.host.p ? c->req.host.p : "",
	    c->req.host.p ? c->req.host.len : 0, c->path, &rr) != ROUTE_LOCKER ||
	    strcmp(rr.locker, c->locker) != 0 || rr.fs_path[0] == '\0')
		return send_error(c, 500, 1);
	memcpy(c->url_prefix, rr.url_prefix, sizeof(c->url_prefix));
	memcpy(c->fs_path, rr.fs_path, sizeof(c->fs_path));
	/* The redirected request is a GET without a body, as in Apache. */
	c->req.method = HTTP_M_GET;	/* method_str stays: the log shows the request */
	c->req.query.p = q ? c->redirect_query : NULL;
	c->req.query.len = qlen;
	c->req.range.p = c->req.if_none_match.p = c->req.if_modified_since.p = NULL;
	dispatch_worker(c);
}

/*
 * An nph- script's status line, as it wrote it (cgi_parse_head checked it:
 * "HTTP/1.x NNN reason", no CTL), and front's Server and Date: the fields a
 * script may not send were dropped by the parser as in any other head.
 */
static void
nph_status_line(struct conn *c, const struct cgi_head *h)
{
	const char	*nl = memchr(c->cgi_buf, '\n', c->cgi_len);
	size_t		 n = nl ? (size_t)(nl - c->cgi_buf) : 0;
	int		 k;

	if (n > 0 && c->cgi_buf[n - 1] == '\r')
		n--;
	head_begin(c, h->status);
	k = snprintf(c->out, sizeof(c->out), "%.*s\r\nServer: " SERVER_SOFTWARE
	    "\r\nDate: %s\r\n", (int)n, c->cgi_buf, F.date);
	/* A reason phrase as long as the head may be does not fit ours. */
	if (k < 0 || (size_t)k >= sizeof(c->out)) {
		c->outlen = 0;
		c->out_full = 1;
	} else
		c->outlen = (size_t)k;
}

/*
 * The host a script's cookies may name in Domain= (cookie.h): the one the
 * request came to when it is the locker's own (its subdomain or a vhost);
 * none on the service's shared names, where /~locker/ pages of every
 * locker share one origin.
 */
static const char *
cookie_host(const struct conn *c, char *buf, size_t bufsz)
{
	if (c->url_prefix[0] != '\0' || c->req.host.p == NULL ||
	    route_canon_host(c->req.host.p, c->req.host.len, buf, bufsz) == -1)
		return NULL;
	return buf;
}

/*
 * Set-Cookie of a script (nph- too), without a Domain that reaches past
 * the locker's own host.  Rewritten in the script's buffer: only ever
 * shorter.
 */
static void
cgi_cookie(struct conn *c, struct http_header *f)
{
	char	host[HOSTNAME_MAX + 1];
	int	removed;

	if (!http_str_eq(f->name, "Set-Cookie"))
		return;
	f->value.len = cookie_strip_domain(f->value.p, f->value.len,
	    cookie_host(c, host, sizeof(host)), (char *)f->value.p, &removed);
}

/*
 * The script's head is complete: turn it into ours.  1 when it is ours,
 * 0 when the request went elsewhere (a local redirect), -1 when it does
 * not fit in ours: refused whole (502), never sent with fields missing.
 *
 * An nph- script's answer is framed like any other: a script must not be
 * able to write a second response that a pipelining client would take for
 * the answer to its next request (to another locker, maybe).  It is cut at
 * its Content-Length; without one it ends where the connection does; and
 * the connection closes after it either way, as nph always did, so nothing
 * the client pipelined behind it is answered on it.
 */
static int
cgi_head(struct conn *c, struct cgi_head *h, size_t hlen)
{
	size_t i;

	if (h->local_redirect) {
		cgi_local_redirect(c, h->location);
		return 0;
	}
	if (c->cgi_nph) {
		nph_status_line(c, h);
		c->keep_alive = 0;
	} else
		head_begin(c, h->status);
	if (h->content_type.p)
		head_add(c, "Content-Type: %.*s\r\n", (int)h->content_type.len,
		    h->content_type.p);
	if (h->location.p)
		head_add(c, "Location: %.*s\r\n", (int)h->location.len, h->location.p);
	for (i = 0; i < h->nheaders; i++) {
		cgi_cookie(c, &h->headers[i]);
		head_add(c, "%.*s: %.*s\r\n", (int)h->headers[i].name.len,
		    h->headers[i].name.p, (int)h->headers[i].value.len, h->headers[i].value.p);
	}
	c->out_left = h->content_length;
	if (c->req.method == HTTP_M_HEAD || h->status == 304 || h->status == 204) {
		c->out_left = 0;
		if (h->content_length >= 0)
			head_add(c, "Content-Length: %lld\r\n", (long long)h->content_length);
	} else if (h->content_length >= 0)
		head_add(c, "Content-Length: %lld\r\n", (long long)h->content_length);
	else if (c->req.version_minor == 1 && !c->cgi_nph) {
		c->chunked_out = 1;
		head_add(c, "Transfer-Encoding: chunked\r\n");
	} else
		c->keep_alive = 0;	/* the end of the body is the end of the connection */
	/* Room left for head_end()'s Connection field and the empty line. */
	if (c->out_full || c->outlen + 64 >= sizeof(c->out))
		return -1;
	head_end(c);
	/* What came after the head is body: keep it at the front of the buffer. */
	memmove(c->cgi_buf, c->cgi_buf + hlen, c->cgi_len - hlen);
	c->cgi_len -= hlen;
	c->cgi_off = 0;
	c->cgi_head_done = 1;
	return 1;
}

/*
 * [u8 name length][name][data] to logd (which checks the name).  -1 when
 * it did not go: logd is behind, and this channel is every locker's.
 */
static int
logd_send_locker(enum msg_type type, const char *locker, const void *data, size_t len)
{
	static char	msg[1 + LOCKER_NAME_MAX + LOG_RUN_MAX];
	size_t		nl = strlen(locker);

	if (F.logfd == -1 || len > LOG_RUN_MAX)
		return -1;
	msg[0] = (char)nl;
	memcpy(msg + 1, locker, nl);
	memcpy(msg + 1 + nl, data, len);
	return msg_send(F.logfd, type, msg, 1 + nl + len, -1);
}

/*
 * The budget front keeps for what it sends to a locker's error log (its
 * PHP's errors, mostly): twice its log-rate,
 * so that logd (which keeps it exactly, for every path) decides what is
 * written, while a flood stops here, before the channel to logd, which
 * every locker's lines share.  What front drops, logd is told, to count.
 */
static int
locker_log_budget(struct wchan *w, const char *line, size_t len)
{
	uint64_t	rate = w->log_rate != LOG_LIMIT_DEFAULT ? w->log_rate : F.conf.log_rate;
	uint64_t	told;

	if (!bucket_take(&w->errb, rate * 2, bucket_cap(rate * 2), loop_now, len)) {
		w->err_dropped += log_cost(line, len);
		return 0;
	}
	if (w->err_dropped > 0) {
		told = w->err_dropped;
		if (logd_send_locker(MSG_LOG_LOCKER_DROPPED, w->locker, &told,
		    sizeof(told)) == 0)
			w->err_dropped = 0;
	}
	return 1;
}

/*
 * A line for the error log of the request's locker: a FastCGI
 * application's stderr, or front's word on why a script's answer was
 * refused.
 */
static void
locker_log_line(void *arg, const char *line, size_t len)
{
	struct conn	*c = arg;
	struct wchan	*w = wchan_find(c->locker);

	len = len < LOG_RUN_MAX ? len : LOG_RUN_MAX;
	if (w != NULL && !locker_log_budget(w, line, len))
		return;
	if (logd_send_locker(MSG_LOG_LOCKER_ERROR, c->locker, line, len) == -1 && w != NULL)
		w->err_dropped += log_cost(line, len);
}

/*
 * STDERR records cut a message wherever the pool's buffers or our reads
 * cut it, and hold several messages (PHP's "error_log()" and the
 * uncaught exception after it): logd gets whole lines, as written, and
 * splits them.  The lines of a record go in one message: a locker's flood
 * of errors costs front (shared by every locker) a send per record, not
 * per line, and leaves room on the channel for the others' lines.
 */
static void
fcgi_stderr(struct conn *c, const unsigned char *p, size_t len)
{
	linebuf_feed_runs(&c->ferr, (const char *)p, len, locker_log_line, c);
}

/* The request's error stream ended: its last line, even without a newline. */
static void
fcgi_stderr_end(struct conn *c)
{
	linebuf_flush(&c->ferr, locker_log_line, c);
}

/*
 * A script's answer refused: the server's error log says so, and for a
 * 502 (the script's own fault) so does its locker's, which is where its
 * owner looks (a page that "just says 502" is otherwise a mystery).
 */
static void
cgi_fail(struct conn *c, int status, const char *why)
{
	char	line[600];
	int	n;

	cgi_end(c);
	if (F.logfd != -1) {
		n = snprintf(line, sizeof(line), "[client %s] locker %s: %s: %.300s", c->peer,
		    c->locker, why, c->path);
		if (n > 0)
			msg_send(F.logfd, MSG_LOG_ERROR, line, (size_t)n < sizeof(line) ?
			    (size_t)n : sizeof(line) - 1, -1);
		n = snprintf(line, sizeof(line), "[client %s] %d for %.300s: %s", c->peer,
		    status, c->path, why);
		if (status == 502 && n > 0)
			locker_log_line(c, line, (size_t)n < sizeof(line) ? (size_t)n :
			    sizeof(line) - 1);
	}
	send_error(c, status, 1);
}

/* Take n written bytes off a piece still to send; returns what is left of n. */
static size_t
sent_off(size_t n, size_t *left)
{
	size_t k = n < *left ? n : *left;

	*left -= k;
	return n - k;
}

/*
 * A FastCGI answer that ended without END_REQUEST (its PHP process died
 * mid-way) is not passed off as whole: no last chunk, and the connection
 * closes, so the client knows.  (A CGI script's end is its EOF: there is
 * nothing else to tell.)
 */
static int
cgi_cut_short(const struct conn *c)
{
	return c->fcgi && !c->fcgi_ended;
}

/*
 * Send our head (while it is not out) and the body bytes buffered, framed
 * as chunks when we chose to, and the last chunk when the script has
 * finished: all in one writev, so that a small answer is one segment.  A
 * piece cut short by a full socket is finished on the next call.  1 when
 * all of it is out, 0 when the socket is full, -1 on error.
 */
static int
cgi_send_body(struct conn *c)
{
	for (;;) {
		struct iovec	iov[5];
		size_t		n, left;
		ssize_t		w;
		int		niov = 0;

		if (c->ck_hoff == c->ck_hlen && c->ck_data == 0 && c->ck_tail == 0) {
			size_t data = c->cgi_len - c->cgi_off;

			/* A script that says less than it sends is cut at its word. */
			if (c->out_left >= 0 && (uint64_t)data > (uint64_t)c->out_left)
				data = (size_t)c->out_left;
			c->ck_data = data;
			c->ck_hoff = c->ck_hlen = 0;
			if (c->chunked_out && data > 0) {
				c->ck_hlen = (size_t)snprintf(c->ck_h, sizeof(c->ck_h), "%zx\r\n", data);
				c->ck_tail = 2;
			}
		}
		/* The script is done and this is the rest of its output. */
		if (c->chunked_out && !c->ck_end_queued && c->cgi_eof && !cgi_cut_short(c) &&
		    c->ck_data == c->cgi_len - c->cgi_off && respbuf_pending(&c->rb) == 0) {
			c->ck_end = 5;
			c->ck_end_queued = 1;
		}
		if (c->outoff < c->outlen) {
			iov[niov].iov_base = c->out + c->outoff;
			iov[niov++].iov_len = c->outlen - c->outoff;
		}
		if (c->ck_hoff < c->ck_hlen) {
			iov[niov].iov_base = c->ck_h + c->ck_hoff;
			iov[niov++].iov_len = c->ck_hlen - c->ck_hoff;
		}
		if (c->ck_data > 0) {
			iov[niov].iov_base = c->cgi_buf + c->cgi_off;
			iov[niov++].iov_len = c->ck_data;
		}
		if (c->ck_tail > 0) {
			iov[niov].iov_base = (char *)"\r\n" + (2 - c->ck_tail);
			iov[niov++].iov_len = c->ck_tail;
		}
		if (c->ck_end > 0) {
			iov[niov].iov_base = (char *)"0\r\n\r\n" + (5 - c->ck_end);
			iov[niov++].iov_len = c->ck_end;
		}
		if (niov == 0)
			break;
		if ((w = writev(c->fd, iov, niov)) == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		n = (size_t)w;
		left = c->outlen - c->outoff;
		n = sent_off(n, &left);
		c->outoff = c->outlen - left;
		left = c->ck_hlen - c->ck_hoff;
		n = sent_off(n, &left);
		c->ck_hoff = c->ck_hlen - left;
		if (n > 0 && c->ck_data > 0) {
			size_t k = n < c->ck_data ? n : c->ck_data;

			c->ck_data -= k;
			c->cgi_off += k;
			c->body_bytes += (off_t)k;
			if (c->out_left >= 0)
				c->out_left -= (int64_t)k;
			n -= k;
		}
		n = sent_off(n, &c->ck_tail);
		sent_off(n, &c->ck_end);
		/* Next, either the client reads or the script writes: the longer. */
		c->deadline = loop_now + (uint64_t)(F.conf.send_timeout > c->script_s ?
		    F.conf.send_timeout : c->script_s) * 1000;
	}
	c->cgi_off = c->cgi_len = 0;
	return 1;
}

/* ------------------------------------------------------------ answers held */

/* Ask the locker's worker for a spool for the rest of the answer. */
static void
resp_ask_spool(struct conn *c)
{
	struct wchan *w = wchan_get(c->locker);

	if (w == NULL) {
		c->rb.refused = 1;
		return;
	}
	c->rb.asked = 1;
	c->want_rspool = 1;
	worker_queue(c, w);
}

/* No spool to be had: the script waits for the client, as it always did. */
static void
resp_spool_refused(struct conn *c)
{
	c->want_rspool = 0;
	c->rb.asked = 0;
	c->rb.refused = 1;
}

/* The worker's answer to resp_ask_spool(): anything but an empty regular file is refused. */
static void
resp_got_spool(struct conn *c, const struct wire_response *r, int fd)
{
	c->want_rspool = 0;
	if (r->kind != WIRE_SPOOL && fd != -1) {
		close(fd);
		fd = -1;
	}
	respbuf_spool(&c->rb, fd);
}

/*
 * Take what the script wrote into the answer held: into memory while
 * nothing waits in the spool (what is in memory always goes out before
 * what is in the spool), else into the spool.  The bytes taken; 0 when
 * none (the script is silent or done, or there is no room: a spool is
 * asked for); -1 when the spool refused them (errno).
 */
static int
resp_fill(struct conn *c)
{
	static char	scratch[CGI_BUF];
	size_t		room;
	int		n;

	if (c->cgi_eof)
		return 0;
	if (respbuf_pending(&c->rb) == 0) {
		if (c->cgi_off == c->cgi_len)
			c->cgi_off = c->cgi_len = 0;
		else if (c->cgi_off >= CGI_BUF / 2) {
			memmove(c->cgi_buf, c->cgi_buf + c->cgi_off, c->cgi_len - c->cgi_off);
			c->cgi_len -= c->cgi_off;
			c->cgi_off = 0;
		}
		if (c->cgi_len < CGI_BUF) {
			n = cgi_read(c, c->cgi_buf + c->cgi_len, CGI_BUF - c->cgi_len);
			c->cgi_len += (size_t)n;
			return n;
		}
	}
	if (c->rb.fd == -1) {
		if (!c->rb.asked && !c->rb.refused)
			resp_ask_spool(c);
		return 0;
	}
	if ((room = respbuf_room(&c->rb, sizeof(scratch))) == 0)
		return 0;
	n = cgi_read(c, scratch, room);
	if (n > 0 && respbuf_write(&c->rb, scratch, (size_t)n) == -1)
		return -1;
	return n;
}

/* The next piece of the answer comes from the spool: a chunk of its own. */
static void
resp_piece_begin(struct conn *c)
{
	uint64_t data = respbuf_pending(&c->rb);

	if (data > (1 << 20))
		data = 1 << 20;
	if (c->out_left >= 0 && data > (uint64_t)c->out_left)
		data = (uint64_t)c->out_left;
	c->sp_data = (size_t)data;
	c->ck_hoff = c->ck_hlen = c->ck_tail = 0;
	if (c->chunked_out) {
		c->ck_hlen = (size_t)snprintf(c->ck_h, sizeof(c->ck_h), "%zx\r\n", c->sp_data);
		c->ck_tail = 2;
	}
	c->sp_piece = 1;
}

/* Send the piece from the spool: its chunk's size line, sendfile(), its CRLF. */
static int
resp_piece_send(struct conn *c)
{
	ssize_t n;

	while (c->ck_hoff < c->ck_hlen) {
		n = send(c->fd, c->ck_h + c->ck_hoff, c->ck_hlen - c->ck_hoff,
		    MSG_NOSIGNAL | MSG_MORE);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->ck_hoff += (size_t)n;
	}
	while (c->sp_data > 0) {
		n = respbuf_sendfile(&c->rb, c->fd, c->sp_data);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		if (n == 0)
			return -1;	/* the spool shrank: what we framed cannot come */
		c->sp_data -= (size_t)n;
		c->body_bytes += n;
		if (c->out_left >= 0)
			c->out_left -= n;
		c->deadline = loop_now + (uint64_t)(F.conf.send_timeout > c->script_s ?
		    F.conf.send_timeout : c->script_s) * 1000;
	}
	while (c->ck_tail > 0) {
		n = send(c->fd, "\r\n" + (2 - c->ck_tail), c->ck_tail, MSG_NOSIGNAL);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->ck_tail -= (size_t)n;
	}
	c->sp_piece = 0;
	return 1;
}

/*
 * Send what is held: from memory (our head first), then from the spool.
 * 1 when all of it is out, 0 when the socket is full, -1 on error.
 */
static int
resp_send(struct conn *c)
{
	int r;

	for (;;) {
		if (c->sp_piece && (r = resp_piece_send(c)) != 1)
			return r;
		if ((r = cgi_send_body(c)) != 1)
			return r;
		if (respbuf_pending(&c->rb) == 0 || c->out_left == 0)
			return 1;
		resp_piece_begin(c);
	}
}

/*
 * The script's whole answer is held and the client is behind: let the
 * script go (a pool connection back to the pool, a CGI script's slot
 * free) and send the rest at the client's pace, bounded by send-timeout.
 * The memory kept counts in front's total; past it, the script waits for
 * the client, as before.
 */
/*
 * The script's side of a request goes: a kept PHP connection back to its
 * pool (or closed), a CGI socket closed (which tells the worker to kill a
 * script still running), and the upload's buffers.  At the end of a
 * request (cgi_end), or once a held answer no longer needs it (cgi_detach).
 */
static void
upstream_release(struct conn *c)
{
	fcgi_stderr_end(c);
	if (c->kc != NULL)
		kconn_release(c);	/* kept for the next request, or closed */
	if (c->cgi_fd != -1) {
		epoll_ctl(F.epfd, EPOLL_CTL_DEL, c->cgi_fd, NULL);
		close(c->cgi_fd);
		c->cgi_fd = -1;
	}
	free(c->up);
	c->up = NULL;
	free(c->fraw);
	c->fraw = NULL;
	c->up_len = c->up_off = 0;
	c->fraw_len = c->fraw_off = 0;
}

static void
cgi_detach(struct conn *c)
{
	size_t	 left = c->cgi_len - c->cgi_off;
	char	*p;

	if (!respbuf_mem_keep(&c->rb, left))
		return;
	if (c->cgi_off > 0)
		memmove(c->cgi_buf, c->cgi_buf + c->cgi_off, left);
	c->cgi_off = 0;
	c->cgi_len = left;
	if ((p = realloc(c->cgi_buf, left ? left : 1)) != NULL)
		c->cgi_buf = p;
	upstream_release(c);
	body_drop(c);		/* the script read it all */
	c->script_s = 0;	/* no script: send-timeout alone bounds the client */
	c->deadline = loop_now + (uint64_t)F.conf.send_timeout * 1000;
	c->detached = 1;
}

/*
 * The answer cannot be held whole (the spool hit the locker's disk limit):
 * it cannot be completed either, so the connection closes; the locker's
 * error log says why.
 */
static void
resp_fail(struct conn *c)
{
	char	line[600];
	int	n, e = errno;

	n = snprintf(line, sizeof(line), "[client %s] answer to %.300s cut after %llu bytes: "
	    "its spool: %s", c->peer, c->path, (unsigned long long)(c->body_bytes +
	    (off_t)(c->cgi_len - c->cgi_off) + (off_t)respbuf_pending(&c->rb)), strerror(e));
	if (n > 0)
		locker_log_line(c, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	conn_close(c);
}

/*
 * A kept pool connection that closed before saying anything (its PHP
 * process exited between two requests): the request went nowhere, and one
 * without a body is sent again, once, on another connection.
 */
static int
fcgi_retry(struct conn *c)
{
	struct wchan *w;

	if (c->kc == NULL || !c->kc_reused || c->fcgi_retried || c->cgi_len > 0 ||
	    c->req.content_length > 0 || c->req.chunked || c->scr == NULL)
		return 0;
	w = c->kc->w;
	c->fcgi_retried = 1;
	cgi_end(c);
	if (w != NULL && !w->dead)
		fcgi_acquire(c, w);
	else
		dispatch_worker(c);
	return 1;
}

/* Drive a running script: body up, head and body down. */
static void
cgi_run(struct conn *c)
{
	struct cgi_head	h;
	int		r, n;

	for (;;) {
		int progress = 0;

		if (!c->upload_done) {
			r = cgi_upload(c);
			if (r == -1)
				return cgi_fail(c, 500, "request body spool unreadable");
			progress |= r > 0;
		}
		if (!c->cgi_head_done) {
			n = cgi_read(c, c->cgi_buf + c->cgi_len, CGI_MAX_HEAD - c->cgi_len);
			c->cgi_len += (size_t)n;
			progress |= n > 0;
			r = cgi_parse_head(c->cgi_buf, c->cgi_len, CGI_MAX_HEAD, c->cgi_nph, &h);
			if (c->fcgi_error)
				return cgi_fail(c, 502, "malformed FastCGI records");
			if (r == -1 && c->cgi_len >= CGI_MAX_HEAD)
				return cgi_fail(c, 502, "script head too large (over 16 KiB)");
			if (r == -1)
				return cgi_fail(c, 502, "malformed script output head");
			if (r == 0 && c->cgi_eof) {
				if (fcgi_retry(c))
					return;
				return cgi_fail(c, 502, "script ended before its head");
			}
			if (r > 0) {
				int hr = cgi_head(c, &h, (size_t)r);

				if (hr == 0)
					return;		/* re-dispatched */
				if (hr == -1)
					return cgi_fail(c, 502, "script head too large (over 8 KiB "
					    "with front's own fields)");
			}
			if (!c->cgi_head_done) {
				if (!progress)
					return;
				continue;
			}
		}
		/* Our head, with the body as it comes; what the client does
		 * not take yet is held (respbuf.h). */
		if ((r = resp_send(c)) == -1)
			return conn_close(c);
		if (r == 1 && (c->out_left == 0 || (c->cgi_eof && c->upload_done))) {
			int cut = c->out_left != 0 && cgi_cut_short(c);

			if (c->out_left > 0 || (!c->upload_done) || cut)
				c->keep_alive = 0;	/* cut short: the length was a lie */
			if (c->chunked_out && !c->ck_end_queued && !cut &&
			    send(c->fd, "0\r\n\r\n", 5, MSG_NOSIGNAL) != 5)
				c->keep_alive = 0;
			cgi_end(c);
			return request_done(c);
		}
		if (c->cgi_eof && !c->upload_done) {
			if (!progress)
				return;
			continue;
		}
		if ((n = resp_fill(c)) == -1)
			return resp_fail(c);
		if (n > 0) {
			/* A script that streams slowly is bounded by its own limit. */
			c->deadline = loop_now + (uint64_t)c->script_s * 1000;
			continue;
		}
		if (r == 0) {
			/* The client is behind: once the whole answer is held,
			 * the script need not wait for it. */
			if (c->cgi_eof && c->upload_done && !c->detached)
				cgi_detach(c);
			return;
		}
		if (c->cgi_eof)
			continue;
		if (!progress)
			return;
	}
}

/* ------------------------------------------------------------ FastCGI pools */

/*
 * The script cache: how the worker resolved a FastCGI script (which file,
 * PATH_INFO, index), kept for file-cache-valid seconds like the file cache,
 * and dropped with it when the routes or the configuration change, so that
 * a page of PHP needs no round trip to the worker either.  PHP reads the
 * script itself, by name, on every request (opcache checks its time stamp):
 * an edit shows at once.  What may lag by up to file-cache-valid is only a
 * change of the resolution itself: a php.ini appearing beside the script
 * (which switches it to CGI), or an index file replacing another.
 */
static struct cache_ent scache[FCACHE_SLOTS];

static void
caches_clear(void)
{
	cache_clear(fcache);
	cache_clear(scache);
}

/*
 * A new routing table drops only the entries of the lockers it changed
 * (route_table_diff): one locker's vhost loop must not cost every other
 * locker its cached files.  The entries are keyed by the locker and a path
 * below its web_scripts, not by host, so only a locker that went (and a
 * new one of the same name would be another home) strictly needs it; a
 * locker whose vhosts changed loses its entries too, to be simple about
 * it.  A change of the domain or the service names, or of more lockers
 * than fit here, drops everything.
 */
#define CHANGED_MAX	64

struct changed {
	char	names[CHANGED_MAX][LOCKER_NAME_MAX + 1];
	size_t	n;
	int	all;
};

static void
changed_cb(const char *locker, void *arg)
{
	struct changed	*ch = arg;
	size_t		 i;

	for (i = 0; i < ch->n; i++)
		if (strcmp(ch->names[i], locker) == 0)
			return;
	if (ch->n == CHANGED_MAX) {
		ch->all = 1;
		return;
	}
	snprintf(ch->names[ch->n++], sizeof(ch->names[0]), "%s", locker);
}

static void
cache_drop_lockers(struct cache_ent *tab, const struct changed *ch)
{
	size_t i, j;

	for (i = 0; i < FCACHE_SLOTS; i++)
		for (j = 0; tab[i].key != NULL && j < ch->n; j++)
			if (strcmp(tab[i].key, ch->names[j]) == 0)	/* "locker\0path" */
				cache_drop(&tab[i]);
}

static void
caches_routes_changed(const struct route_table *old, const struct route_table *new)
{
	struct changed ch;

	ch.n = 0;
	ch.all = 0;
	if (route_table_diff(old, new, changed_cb, &ch) == -1 || ch.all) {
		caches_clear();
		return;
	}
	cache_drop_lockers(fcache, &ch);
	cache_drop_lockers(scache, &ch);
}

static const char *
file_ext(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0')
		return NULL;
	return dot + 1;
}

/* The tail of a WIRE_FCGI answer, checked (cgienv.c), as our own copy. */
static struct fres *
fres_parse(const struct wire_response *r, size_t len)
{
	const char			*str[WSC_MAX], *ext;
	const struct interpreter	*in;
	struct fres			*f;
	size_t				 l[WSC_MAX], total = 0, i;
	int				 has_index;
	char				*d;

	if (len < sizeof(*r) ||
	    wire_script_parse(r + 1, len - sizeof(*r), str, l, &has_index) == -1)
		return NULL;
	for (i = 0; i < WSC_MAX; i++)
		total += l[i] + 1;
	if ((f = malloc(sizeof(*f) + total)) == NULL)
		return NULL;
	f->size = sizeof(*f) + total;
	d = (char *)(f + 1);
	for (i = 0; i < WSC_MAX; i++) {
		memcpy(d, str[i], l[i]);
		d[l[i]] = '\0';
		f->s[i] = d;
		d += l[i] + 1;
	}
	f->has_index = has_index;
	/* Only a script our configuration runs through FastCGI. */
	ext = file_ext(f->s[WSC_REL]);
	in = script_interp(&F.conf, ext);
	if (in == NULL || !in->fastcgi || strlen(ext) >= sizeof(f->ext)) {
		free(f);
		return NULL;
	}
	snprintf(f->ext, sizeof(f->ext), "%s", ext);
	return f;
}

static struct fres *
fres_dup(const struct fres *r)
{
	struct fres	*f = malloc(r->size);
	int		 i;

	if (f == NULL)
		return NULL;
	memcpy(f, r, r->size);
	/* The strings live right after the struct: the same offsets in the copy. */
	for (i = 0; i < WSC_MAX; i++)
		f->s[i] = (char *)f + (r->s[i] - (const char *)r);
	return f;
}

/* How long a resolution is reused: never as long as a worker stays idle,
 * so that a locker's busy PHP still keeps its worker (and pool) alive. */
static uint64_t
scache_valid_ms(void)
{
	uint64_t v = (uint64_t)F.conf.file_cache_valid * 1000;
	uint64_t idle = (uint64_t)F.conf.worker_idle_timeout * 1000 / 2;

	return v < idle ? v : idle;
}

static int
scache_get(struct conn *c)
{
	struct cache_ent *e;

	if (scache_valid_ms() == 0 || (e = cache_get(scache, c)) == NULL)
		return 0;
	return (c->scr = fres_dup(e->r)) != NULL;
}

static void
scache_put(const struct conn *c, const struct fres *r)
{
	struct cache_ent	*e;
	struct fres		*copy;

	if (scache_valid_ms() == 0 || (copy = fres_dup(r)) == NULL)
		return;
	if ((e = cache_claim(scache, c, scache_valid_ms())) == NULL) {
		free(copy);
		return;
	}
	e->r = copy;
}

static struct kconn *
kconn_new(struct wchan *w, int fd, const char *ext)
{
	struct kconn *kc = calloc(1, sizeof(*kc));

	if (kc == NULL) {
		close(fd);
		return NULL;
	}
	set_nonblock(fd);
	kc->kind = K_FCONN;
	kc->fd = fd;
	kc->w = w;
	snprintf(kc->ext, sizeof(kc->ext), "%s", ext);
	kc->next = w->kconns;
	w->kconns = kc;
	w->nk++;
	/* Registered for its whole life: no epoll_ctl per request. */
	ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, kc);
	return kc;
}

/* Close it; freed at the end of the round (an event may still name it). */
static void
kconn_drop(struct kconn *kc)
{
	struct wchan *w = kc->w;

	if (w != NULL) {
		struct kconn **pp;

		for (pp = &w->kconns; *pp != NULL; pp = &(*pp)->next)
			if (*pp == kc) {
				*pp = kc->next;
				break;
			}
		w->nk--;
		fcgi_kick(w);
	}
	epoll_ctl(F.epfd, EPOLL_CTL_DEL, kc->fd, NULL);
	close(kc->fd);
	kc->dead = 1;
	kc->w = NULL;
	kc->owner = NULL;
	kc->next = F.dead_kconns;
	F.dead_kconns = kc;
}

/*
 * The request is over: keep the connection for the next one only if the
 * exchange ended cleanly (END_REQUEST complete, our whole STDIN sent,
 * nothing after it); anything else may leave the stream out of step.
 */
static void
kconn_release(struct conn *c)
{
	struct kconn *kc = c->kc;

	c->kc = NULL;
	c->cgi_fd = -1;
	if (kc->w != NULL && !kc->w->dead && !F.stopping &&
	    kc->w->nk <= wchan_share(kc->w) && c->fr.ended &&
	    c->fr.protocol_status == 0 && c->upload_done && c->fcgi_stdin_ended &&
	    !c->up_discard && c->up_off == c->up_len && c->fraw_off == c->fraw_len &&
	    c->fpend_len == 0 && !c->fcgi_error) {
		kc->owner = NULL;
		kc->used++;
		fcgi_kick(kc->w);
		return;
	}
	kconn_drop(kc);
}

static void
fcgi_kick(struct wchan *w)
{
	if (w->kick || w->dead || TAILQ_EMPTY(&w->fq))
		return;
	w->kick = 1;
	LIST_INSERT_HEAD(&F.kick, w, klink);
}

static struct kconn *
kconn_idle(struct wchan *w, const char *ext)
{
	struct kconn *kc;

	for (kc = w->kconns; kc != NULL; kc = kc->next)
		if (kc->owner == NULL && (ext == NULL || strcmp(kc->ext, ext) == 0))
			return kc;
	return NULL;
}

static void
fq_remove(struct conn *c)
{
	TAILQ_REMOVE(&c->fqw->fq, c, flink);
	c->fqw = NULL;
}

/*
 * A pool connection for a resolved script: an idle one of ours, or a new
 * one from the worker while we hold less than our share, or else a place
 * in the queue until one of ours is free.
 */
static void
fcgi_acquire(struct conn *c, struct wchan *w)
{
	struct kconn *kc;

	if (TAILQ_EMPTY(&w->fq) && (kc = kconn_idle(w, c->scr->ext)) != NULL)
		return fcgi_begin(c, kc);
	if (TAILQ_EMPTY(&w->fq) && w->nk + w->npending < wchan_share(w))
		return worker_send(c, w, 1);
	c->state = C_WAIT_FCGI;
	c->deadline = loop_now + (uint64_t)F.conf.worker_timeout * 1000;
	c->fqw = w;
	TAILQ_INSERT_TAIL(&w->fq, c, flink);
}

/* Hand freed connections (or slots for new ones) to the requests waiting. */
static void
fcgi_kick_all(void)
{
	struct wchan	*w;
	struct conn	*c;
	struct kconn	*kc;

	while ((w = LIST_FIRST(&F.kick)) != NULL) {
		LIST_REMOVE(w, klink);
		w->kick = 0;
		while (!w->dead && (c = TAILQ_FIRST(&w->fq)) != NULL) {
			if ((kc = kconn_idle(w, c->scr->ext)) != NULL) {
				fq_remove(c);
				fcgi_begin(c, kc);
				conn_run(c);
				continue;
			}
			/* An idle one for another interpreter gives up its place. */
			if (w->nk + w->npending >= wchan_share(w) &&
			    (kc = kconn_idle(w, NULL)) != NULL)
				kconn_drop(kc);
			if (w->nk + w->npending >= wchan_share(w))
				break;
			fq_remove(c);
			worker_send(c, w, 1);
		}
	}
}

/* Write the request (BEGIN_REQUEST, PARAMS) on kc and run it. */
static void
fcgi_begin(struct conn *c, struct kconn *kc)
{
	static char		 wbuf[MSG_MAX_PAYLOAD];
	static unsigned char	 req[FCGI_REQUEST_MAX];
	static char		 file[2 * PATH_MAX];
	struct wire_request	*q = (struct wire_request *)wbuf;
	struct wire_view	 v;
	struct script_req	 s;
	size_t			 wl, rl;
	int			 end_stdin;

	if ((wl = wire_pack(c, wbuf, sizeof(wbuf))) == 0 ||
	    wire_view_of(q, wbuf + sizeof(*q), wl - sizeof(*q), &v) == -1) {
		fcgi_kick(kc->w);	/* still idle: for whoever waits */
		return send_error(c, 431, 0);
	}
	snprintf(file, sizeof(file), "%s/%s", c->scr->s[WSC_DOCROOT], c->scr->s[WSC_REL]);
	memset(&s, 0, sizeof(s));
	s.conf = &F.conf;
	s.q = q;
	s.view = &v;
	s.filename = file;
	s.docroot = c->scr->s[WSC_DOCROOT];
	s.path_info = c->scr->s[WSC_PATH_INFO];
	s.index_name = c->scr->has_index ? c->scr->s[WSC_INDEX] : NULL;
	end_stdin = !(q->flags & WREQ_BODY);
	if ((rl = cgi_fcgi_request(&s, req, sizeof(req), 1, end_stdin)) == 0) {
		fcgi_kick(kc->w);
		return send_error(c, 500, 1);
	}
	kc->owner = c;
	c->kc = kc;
	c->kc_reused = kc->used > 0;
	wchan_busy(kc->w);	/* at once: the worker may have been quiet for long */
	c->fcgi = 1;
	/* Until the reader has seen END_REQUEST, the connection is not reusable. */
	fcgi_reader_init(&c->fr, 1);
	cgi_start(c, kc->fd, 0, req, rl);
	if (c->state != C_CGI)
		return;
	/* A body that is not for this script (a local redirect's) is read and
	 * dropped: nothing may follow the end of STDIN (see cgi_upload). */
	c->fcgi_stdin_ended = end_stdin;
}

static void
wchan_read(struct wchan *w)
{
	static union {
		struct wire_response	r;
		char			buf[WIRE_RESPONSE_MAX];
	}				 r[CHAN_BATCH];
	struct msg_in			 in[CHAN_BATCH];
	int				 i, k, round;

	for (round = 0; round < 8 && !w->dead; round++) {
		for (i = 0; i < CHAN_BATCH; i++) {
			in[i].buf = &r[i];
			in[i].cap = sizeof(r[i]);
		}
		k = msg_recv_many(w->fd, in, CHAN_BATCH);
		if (k == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k == -1 && errno == EBADMSG) {
			log_warnx("front: malformed message from worker %s; dropping it", w->locker);
			wchan_fail(w, 502);
			return;
		}
		if (k <= 0) {
			wchan_fail(w, 0);
			return;
		}
		for (i = 0; i < k; i++) {
			if (w->dead) {
				if (in[i].fd != -1)
					close(in[i].fd);
				continue;
			}
			if (in[i].type != MSG_RESPONSE || in[i].len < sizeof(r[i].r)) {
				if (in[i].fd != -1)
					close(in[i].fd);
				log_warnx("front: bad message from worker %s; dropping it",
				    w->locker);
				wchan_fail(w, 502);
				continue;
			}
			handle_response(w, &r[i].r, in[i].len, in[i].fd);
		}
		if (k < CHAN_BATCH)
			return;
	}
}

/* ------------------------------------------------------------ master */

static int
load_routes(int fd)
{
	struct route_table	*t;
	struct stat		 st;
	char			*buf;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 || st.st_size > (256 << 20)) {
		log_warnx("front: bad routes descriptor");
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL)
		return -1;
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size ||
	    (t = route_table_load(buf, (size_t)st.st_size)) == NULL) {
		log_warnx("front: routing table refused");
		free(buf);
		return -1;
	}
	free(buf);
	caches_routes_changed(F.routes, t);	/* a locker or vhost may be gone */
	if (F.routes)
		route_table_free(F.routes);
	F.routes = t;
	return 0;
}

static void
worker_chan(const struct msg_worker *m, int fd)
{
	char		 name[LOCKER_NAME_MAX + 1];
	struct wchan	*w;

	/* Only the live channel of that locker, and only if still waiting. */
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(m->locker), m->locker);
	if ((w = wchan_find(name)) != NULL && w->fd != -1)
		w = NULL;
	if (w == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (fd == -1 || m->status != 0) {
		if (fd != -1)
			close(fd);
		wchan_fail(w, m->status >= 400 && m->status < 600 ? m->status : 503);
		return;
	}
	set_nonblock(fd);
	w->fd = fd;
	w->script_timeout = m->script_timeout;
	w->max_scripts = m->max_scripts;
	w->log_rate = m->log_rate;
	ev_add(fd, EPOLLIN | EPOLLOUT | EPOLLET, w);
	wchan_flush(w);
}

/* A locker's own limits changed (locker limit): its channel takes them. */
static void
worker_limits(const struct msg_worker *m)
{
	char		 name[LOCKER_NAME_MAX + 1];
	struct wchan	*w;

	snprintf(name, sizeof(name), "%.*s", (int)sizeof(m->locker), m->locker);
	if ((w = wchan_find(name)) != NULL) {
		w->script_timeout = m->script_timeout;
		w->max_scripts = m->max_scripts;
		w->log_rate = m->log_rate;
	}
}

static void
master_read(void)
{
	union {
		struct config		c;
		struct msg_worker	w;
		uint32_t		gen;	/* MSG_ROUTES: its generation */
	} *m;
	static char	 buf[sizeof(struct config) + 64];
	enum msg_type	 type;
	ssize_t		 n;
	int		 fd;

	m = (void *)buf;
	for (;;) {
		n = msg_recv(F.master, &type, buf, sizeof(buf), &fd);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1 || type == MSG_NONE)
			fatalx("front %d: master went away", F.idx);
		switch (type) {
		case MSG_CONFIG:
			if ((size_t)n == sizeof(struct config))
				apply_config(&m->c);
			break;
		case MSG_ROUTES:
			/* What was logged under the old table goes first: a
			 * removed locker's lines reach logd before its name can
			 * be signed up again (a CLI round trip later). */
			log_flush();
			if (fd != -1 && (size_t)n == sizeof(uint32_t) && load_routes(fd) == 0)
				stats_routes(F.master, m->gen);
			break;
		case MSG_WORKER_CHAN:
			if ((size_t)n == sizeof(struct msg_worker)) {
				worker_chan(&m->w, fd);
				fd = -1;
			}
			break;
		case MSG_WORKER_LIMITS:
			if ((size_t)n == sizeof(struct msg_worker))
				worker_limits(&m->w);
			break;
		case MSG_LOG_CHAN:
			if (fd != -1) {
				if (F.logfd != -1) {
					epoll_ctl(F.epfd, EPOLL_CTL_DEL, F.logfd, NULL);
					close(F.logfd);
				}
				F.logfd = fd;
				set_nonblock(fd);
				fd = -1;
			}
			break;
		default:
			break;
		}
		if (fd != -1)
			close(fd);
	}
}

/* ------------------------------------------------------------ timers */

static void
timeouts(void)
{
	struct conn	*c, *next;

	for (c = F.conns; c != NULL; c = next) {
		next = c->next;
		if (c->deadline > loop_now)
			continue;
		switch (c->state) {
		case C_READ_HEAD:
			if (c->inlen == 0) {
				conn_close(c);	/* an idle keep-alive connection */
				continue;
			}
			c->have_req = 1;
			c->req.method_str.p = NULL;
			c->nreq++;
			c->started = time(NULL);
			send_error(c, 408, 0);
			break;
		case C_READ_BODY:
			send_error(c, 408, 0);
			break;
		case C_WAIT_WORKER:
			if (c->wc)
				wchan_dequeue(c->wc, c);
			send_error(c, 504, 1);
			break;
		case C_WAIT_FCGI:
			if (c->fqw)
				fq_remove(c);
			send_error(c, 504, 1);
			break;
		case C_CGI:
			if (c->cgi_head_done) {
				conn_close(c);
				continue;
			}
			cgi_fail(c, 504, "script timed out");
			break;
		case C_SEND:
			conn_close(c);
			continue;
		}
		conn_run(c);
	}
}

static void
stop_begin(void)
{
	struct conn	*c, *next;
	int		 i;

	if (F.stopping)
		return;
	F.stopping = 1;
	F.stop_deadline = loop_now + (uint64_t)F.conf.shutdown_timeout * 1000;
	for (i = 0; i < F.nlisten; i++) {
		epoll_ctl(F.epfd, EPOLL_CTL_DEL, F.listen[i], NULL);
		close(F.listen[i]);
	}
	F.nlisten = 0;
	for (c = F.conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_READ_HEAD && c->inlen == 0)
			conn_close(c);
	}
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = (rlim_t)F.conf.max_connections * 2 + 256;

		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
front_main(int idx)
{
	struct epoll_event	 evs[256];
	struct config		 conf;
	char			 root[PATH_MAX + 8], err[256];
	enum msg_type		 type;
	sigset_t		 set;
	ssize_t			 n;
	int			 i, fd, sfd, nlisten;

	memset(&F, 0, sizeof(F));
	F.idx = idx;
	F.master = CHILD_CHAN_FD;
	F.logfd = -1;
	log_init("front", 0);
	/* The first message is always the configuration. */
	n = msg_recv(F.master, &type, &conf, sizeof(conf), &fd);
	if (n != (ssize_t)sizeof(conf) || type != MSG_CONFIG)
		fatalx("front: no configuration from the master");
	apply_config(&conf);
	nlisten = F.conf.nlisten;
	for (i = 0; i < nlisten && i < CONF_MAX_LISTEN; i++)
		F.listen[F.nlisten++] = CHILD_FIRST_LISTEN_FD + i;

	raise_nofile();
	tzset();	/* before the chroot hides /etc/localtime */
	update_date();
	snprintf(root, sizeof(root), "%s/empty", F.conf.state);
	drop_privileges(F.conf.front_user, root);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("front: signalfd");
	if ((F.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("front: epoll_create1");
	set_nonblock(F.master);
	ev_add(F.master, EPOLLIN, &master_kind);
	ev_add(sfd, EPOLLIN, &signal_kind);
	for (i = 0; i < F.nlisten; i++) {
		set_nonblock(F.listen[i]);
		ev_add(F.listen[i], EPOLLIN, &listen_kind);
	}
	(void)logd_kind;
	/* Everything front opens, it has opened by now. */
	if (seccomp_service(0, err, sizeof(err)) == -1)
		fatalx("front: %s", err);

	for (;;) {
		uint64_t since;
		int nev = epoll_wait(F.epfd, evs, 256, F.loglen || stats_pending(&since) ? 100 :
		    F.busy_seen ? BUSY_WALK_MS : 1000);

		update_date();
		for (i = 0; i < nev; i++) {
			void		*p = evs[i].data.ptr;
			enum obj_kind	 k = *(enum obj_kind *)p;

			switch (k) {
			case K_LISTEN:
				for (int j = 0; j < F.nlisten; j++)
					accept_conns(F.listen[j]);
				break;
			case K_CONN: {
				struct conn *c = p;

				if (c->closed)
					break;
				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					c->readable = 1;
				if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					c->rdhup = 1;
				conn_run(c);
				break;
			}
			case K_WCHAN: {
				struct wchan *w = p;

				if (w->dead)
					break;
				if (evs[i].events & EPOLLOUT)
					wchan_flush(w);
				wchan_read(w);
				break;
			}
			case K_CGI: {
				struct conn *c = ((struct cgi_tag *)p)->c;

				if (c->closed || c->cgi_fd == -1)
					break;
				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					c->cgi_readable = 1;
				if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
					c->cgi_writable = 1;
				conn_run(c);
				break;
			}
			case K_FCONN: {
				struct kconn	*kc = p;
				struct conn	*c = kc->owner;
				char		 b;

				if (kc->dead)
					break;
				if (c != NULL) {
					if (c->closed)
						break;
					if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
						c->cgi_readable = 1;
					if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
						c->cgi_writable = 1;
					conn_run(c);
					break;
				}
				/* Idle: the pool closed it (a child exited), or spoke
				 * out of turn; an event left from its last request is not
				 * either. */
				if ((evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
				    !(recv(kc->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
				    errno == EAGAIN))
					kconn_drop(kc);
				break;
			}
			case K_MASTER:
				master_read();
				break;
			case K_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					if (si.ssi_signo != SIGHUP)
						stop_begin();
				break;
			}
			default:
				break;
			}
		}
		{
			static time_t last;

			if (F.date_t != last) {
				last = F.date_t;
				timeouts();
			}
		}
		fcgi_kick_all();
		flush_all();
		if (loop_now - F.busy_walked >= BUSY_WALK_MS)
			busy_tell_all();
		/* Log lines go to logd in batches: at most 100 ms late. */
		if (F.loglen > 16384 || (F.loglen > 0 && loop_now - F.log_first >= 100))
			log_flush();
		if (stats_pending(&since) && loop_now - since >= STATS_EVERY_MS)
			stats_flush(F.master);
		graveyard_empty();
		if (F.stopping && (F.nconns == 0 || loop_now > F.stop_deadline)) {
			log_flush();
			stats_flush(F.master);
			exit(0);
		}
	}
}
