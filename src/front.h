/*
 * front.h: what the files of the front process share (front.c, conn.c,
 * respond.c, wchan.c, fcache.c, front_cgi.c, front_fcgi.c): its objects,
 * its state, and the functions one file calls in another.  Private to
 * front: nothing outside these files includes it.
 */
#ifndef LOCKERD_FRONT_H
#define LOCKERD_FRONT_H

#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>

#include "lockerd.h"
#include "body.h"
#include "poolpolicy.h"
#include "fcgi.h"
#include "http.h"
#include "respbuf.h"
#include "route.h"

enum conn_state {
	C_HANDSHAKE,	/* TLS: the handshake, with its own deadline (tls.c) */
	C_READ_HEAD,
	C_READ_BODY,
	C_WAIT_WORKER,
	C_SEND,
	C_CGI,		/* a script runs: body up, output down */
	C_WAIT_FCGI,	/* waiting for a connection to the locker's FastCGI pool */
	C_FLUSH,	/* TLS: the last bytes on their way out, then the close */
	C_H2,		/* an HTTP/2 session's connection: its streams are conns (h2.c) */
	C_PROXY,	/* a proxy listener's: its PROXY header first (front_proxy.c) */
};

enum obj_kind { K_LISTEN = 1, K_CONN, K_MASTER, K_SIGNAL, K_WCHAN, K_CGI, K_FCONN };

struct wchan;
struct kconn;
struct tls_conn;
struct h2_session;
struct h2_stream;

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

	/* The worker exchange. */
	struct wchan		*wc;
	TAILQ_ENTRY(conn)	 wlink;		/* in wc's queue */
	uint64_t		 req_id;
	int			 sent;		/* request written to the channel */
	int			 retried;
	int			 closed;	/* freed after this event-loop round */
	int			 ghost;		/* no client: the file cache asking the worker
						   again (fcache.c); only ever on a wchan's queue */
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
	/* A TLS connection's session and buffers (tls.c); NULL on a plain
	 * one, which pays nothing else for TLS. */
	struct tls_conn		*tls;
	uint8_t			 lflags;	/* its listener's LISTEN_* */
	/* HTTP/2 (h2.h): the session this TLS connection carries, or the
	 * stream this conn is the request of (no socket of its own: fd -1,
	 * tls the carrier's, cio.c's calls go to h2_stream.c). */
	struct h2_session	*h2;
	struct h2_stream	*h2s;

	/* Epoll's handle on a script's socket: in the connection, not in sc,
	 * because an event of this round may still name it after cgi_end(). */
	struct cgi_tag {
		enum obj_kind	 kind;		/* K_CGI */
		struct conn	*c;
	}			 cgi_tag;
	struct script		*sc;		/* the script running, or its answer held */
	unsigned		 cgi_gen;	/* scripts started on this connection */
	int			 then_send;	/* discard the body, then send the answer */
	int			 redirects;
	int			 hsts;		/* this answer carries Strict-Transport-Security */
	char			*xhdr;		/* a worker's extra fields for this answer (a
						   .htaccess's): checked "Name: value\r\n" lines */
	size_t			 xhdr_len;
	size_t			 hops_len;	/* its Header operations, after the fields
						   (checked, wire.h): hdrops.c applies them */
	size_t			 xhdr_at, xhdr_end;	/* where head_begin() put the fields
						   in out: the worker applied the operations there */
	int			 own_page;	/* this head is front's own error page or
						   redirect: "always" operations only */
	int			 doc_status;	/* an ErrorDocument's status: a script's head
						   without a Status field takes it */
	char			*redirect_query;	/* a local redirect's query string */

	/* On the way to the locker's FastCGI pool, before a script starts. */
	int			 fcgi_retried;
	int			 want_conn;	/* asked the worker for a pool connection */
	int			 fcgi_ask;	/* ... alone (MSG_FCGI_ASK): the script is known */
	int			 fcgi_no_ask;	/* ... not again: the worker had no such pool */
	struct fres		*scr;		/* the script, as resolved */
	uint64_t		 watch_gen;	/* its wchan's when sent to the worker */
	struct wchan		*fqw;		/* waiting in this wchan's queue */
	TAILQ_ENTRY(conn)	 flink;		/* in fqw's queue */
	int			 want_rspool;	/* asked the worker for a spool for sc's answer */
};

/*
 * What a connection holds only while a script runs (or its answer is held
 * after it): allocated by script_new(), freed by cgi_end().  c->sc is never
 * NULL in C_CGI.  Apart from struct conn because most connections never
 * run a script, and this is most of what a script needs.
 */
struct script {
	/* The script's socket: the body goes up it, the output comes down. */
	int			 cgi_fd;
	int			 cgi_nph;
	int			 cgi_head_done;
	int			 cgi_readable, cgi_writable, cgi_eof;
	unsigned		 script_s;	/* its time limit, seconds */
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
	uint64_t		 up_src;	/* of c->body, read into up so far */
	int			 upload_done;
	int			 up_discard;	/* the script stopped reading: drop the rest */

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
	struct linebuf		 ferr;		/* a partial line of FastCGI STDERR */

	/* The answer held while the client takes it (respbuf.h). */
	struct respbuf		 rb;
	int			 sp_piece;	/* a piece from the spool is going out */
	size_t			 sp_data;	/* ... its bytes still to send */
	int			 detached;	/* the script is gone: its answer is here */
};

/*
 * A connection to a locker's FastCGI pool, for one request (as nginx's
 * default, fastcgi_keep_conn off: a kept one would pin a PHP process to
 * this front).  The worker makes it and passes it over; when it closes,
 * the worker is told (MSG_FCGI_DONE, a count kept in w->done until sent),
 * which is how it knows how many of its processes are busy.  At most the
 * pool's size of them per front and locker; requests beyond wait in front.
 * It belongs to the locker's channel, and dies with it.
 */
struct kconn {
	enum obj_kind	 kind;		/* K_FCONN */
	int		 fd;
	struct wchan	*w;		/* NULL once the channel is gone */
	struct conn	*owner;		/* the request using it; NULL: idle */
	char		 ext[CONF_EXT_LEN];
	char		 pool[WSC_POOL_MAX + 1];	/* which pool of ext's (WSC_POOL) */
	struct kconn	*next;
	int		 dead;
	unsigned	 used;		/* requests begun on it */
};

LIST_HEAD(wchan_list, wchan);

/* The body that goes to the script: none to a local redirect's target. */
static inline uint64_t
cgi_body_len(const struct conn *c)
{
	return c->redirects ? 0 : c->body.len;
}

struct wchan {
	enum obj_kind	 kind;		/* K_WCHAN */
	char		 locker[LOCKER_NAME_MAX + 1];
	int		 fd;		/* -1 until the master hands it over */
	TAILQ_HEAD(, conn) wq;		/* requests outstanding, oldest first */
	struct conn	*unsent;	/* the first of wq not written yet: those
					   before it are, those after it are not */
	unsigned	 ghosts;	/* of wq, the file cache's own asks (fcache.c) */
	LIST_ENTRY(wchan) hlink;	/* in its bucket; on F.dead_wchans once dead */
	LIST_ENTRY(wchan) flink;	/* on F.flush: has requests to write */
	int		 dirty;
	int		 dead;
	struct kconn	*kconns;	/* to the locker's FastCGI pools */
	unsigned	 nk;		/* how many */
	unsigned	 npending;	/* asked of the worker, not answered yet */
	struct done_tally done;		/* of them closed, the worker not told yet */
	TAILQ_HEAD(, conn) fq;		/* requests waiting for one */
	int		 kick;
	LIST_ENTRY(wchan) klink;	/* on F.kick */
	/* The locker's own limits, from the master (msg_worker); read them
	 * with config_limit_of(&F.conf, own, ...). */
	uint64_t	 own[LIMIT_N];
	struct rate_bucket	 errb;		/* of the PHP errors front relays */
	uint64_t	 err_dropped;	/* bytes of them dropped, not told logd yet */
	uint64_t	 told_busy;	/* when the worker last had MSG_BUSY */
	/* The worker's inotify instance on the directories its answers were
	 * decided in (MSG_WATCH, htwatch.c), -1: none yet; and the generation
	 * of what this front keeps of it, new whenever the watch hears. */
	int		 watch_fd;
	uint64_t	 watch_gen;
};

/* How often front looks at the requests in flight (wchan.c), and sleeps at most. */
#define BUSY_WALK_MS	250	/* how often in-flight requests are looked at */
/* A script's output and upload buffers (front_cgi.c, front_fcgi.c). */
#define CGI_BUF		(64 * 1024)

/* The front process's state; one per process (front.c). */
struct front {
	struct config		 conf;
	int			 idx;
	int			 epfd;
	int			 master;
	int			 logfd;
	int			 listen[CONF_MAX_LISTEN];
	int			 nlisten;
	int			 lflags[CONF_MAX_LISTEN];	/* each one's LISTEN_* */
	char			 laddr[CONF_MAX_LISTEN][INET6_ADDRSTRLEN];	/* "": wildcard */
	uint16_t		 lport[CONF_MAX_LISTEN];
	unsigned		 handshakes;	/* TLS handshakes in progress */
	int			 accept_more;	/* a listener's queue was left unemptied */
	struct route_table	*routes;
	struct conn		*conns;
	unsigned		 nconns;
	struct conn		*graveyard;	/* closed, freed at the end of the round */
	struct wchan_list	 dead_wchans;
	struct wchan_list	 flush;		/* written at the end of the round */
	struct wchan_list	 kick;		/* a pool connection may be free */
	struct kconn		*dead_kconns;
	uint64_t		 next_id;
	uint64_t		 watch_gens;	/* the last wchan watch_gen given out */
	int			 stopping;
	uint64_t		 stop_deadline;
	uint32_t		 drain;		/* the node's DRAIN_* bits (MSG_DRAIN, health.c) */
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
};

extern struct front F;

/* Watch fd in the event loop with ptr (which starts with an obj_kind); fatal on failure. */
static inline void
ev_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	if (epoll_ctl(F.epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("front: epoll_ctl add");
}

/* ------------------------------------------------------------ front.c */

/* The clock of this round of events (ms, now_ms()): every deadline counts from it. */
extern uint64_t	loop_now;

/* ------------------------------------------------------------ conn.c */

/* Enter state with secs (from now) to leave it; with c->state, renew the deadline only. */
void	conn_set_state(struct conn *c, enum conn_state state, uint32_t secs);
/* Close c and log it; freed at the end of the round (graveyard_empty). */
void	conn_close(struct conn *c);
/* Free the connections, channels and pool connections closed this round. */
void	graveyard_empty(void);
/* The i-th listener's own address, if it has one (not a wildcard). */
void	listener_addr(int i);
/* Accept what waits on the i-th listening socket, up to 64 at a time; 1: more may wait. */
int	accept_conns(int i);
/* A conn for an HTTP/2 stream of parent's, linked, reading its head; NULL: none. */
struct conn *conn_new_stream(struct conn *parent);
/* The request is answered: log it, then the next one (keep-alive) or close. */
void	request_done(struct conn *c);
/* Ask the locker's worker for a file to hold a large body in. */
void	body_ask_spool(struct conn *c);
/* The worker's answer to body_ask_spool(): anything but an empty regular file is refused. */
void	body_got_spool(struct conn *c, const struct wire_response *r, int fd);
/* The body held is not for any script after all: free it. */
void	body_drop(struct conn *c);
/* Drive c as far as it goes now; every event of a connection ends here. */
void	conn_run(struct conn *c);

/* ------------------------------------------------------------ front_proxy.c */

/* Whether a proxy listener's peer (ss, its text) is in proxy-from; logged if not. */
int	proxy_peer_allowed(const struct sockaddr_storage *ss, const char *peer);
/* Read c's PROXY header: 1 whole (c->peer is the client's now), 0 wait, -1 close c. */
int	proxy_read(struct conn *c);
/* c's header did not come within header-timeout (logged; the caller closes c). */
void	proxy_timed_out(struct conn *c);

/* ------------------------------------------------------------ health.c */

/* MSG_DRAIN: the node's drain state; draining, HTTP/2 sessions get GOAWAY. */
void	health_drain_msg(uint32_t state);
/* 1: c asked for the health check, answered; draining, c keeps no keep-alive. */
int	health_request(struct conn *c);

/* ------------------------------------------------------------ cio.c */

/*
 * Every byte to or from a client goes through these: the socket itself on
 * a plain connection (no extra system call, no allocation), the TLS
 * session on a TLS one.  Each returns what the system call it stands for
 * would (-1 with EAGAIN when the connection must wait for an event).
 */
ssize_t	cio_recv(struct conn *c, void *buf, size_t n);
ssize_t	cio_send(struct conn *c, const void *buf, size_t n, int more);
ssize_t	cio_writev(struct conn *c, const struct iovec *iov, int niov);
/* sendfile(): through a buffer of the connection's on TLS (no kTLS here). */
ssize_t	cio_sendfile(struct conn *c, int fd, off_t *off, size_t n);
/* The same for respbuf_send(): arg is the connection. */
ssize_t	cio_sendfile_cb(void *arg, int fd, off_t *off, size_t n);
/* Our side is done: TLS's close_notify, then the socket's FIN. */
void	cio_shutdown(struct conn *c);
/* Whether every byte said sent is in the kernel's hands: 1, 0 (wait for
 * room: EAGAIN), -1 (error).  Always 1 on a plain connection. */
int	cio_flushed(struct conn *c);
/* A response's last bytes are handed over: cio_flushed(), and on a TLS
 * connection that closes after it, its close_notify sent with them. */
int	cio_done(struct conn *c);
/* Between requests: a TLS connection's response buffers go, once flushed. */
void	cio_idle(struct conn *c);
/* Whether c is a TLS connection (for --https-only, HSTS, the CGI variables). */
static inline int
conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

/* ------------------------------------------------------------ tls.c */

/* Before the chroot: OpenSSL's own start (it reads its configuration). */
void	tls_init(void);
/* A TLS session for c, accepted on a TLS listener; -1: close c. */
int	tls_conn_new(struct conn *c);
/* Run c's handshake: 1 done, 0 wait for an event, -1 failed (close c). */
int	tls_handshake(struct conn *c);
/* Free c's session (at its close). */
void	tls_conn_free(struct conn *c);
/* 421 is due: c's SNI names another target than its Host (conn.c). */
int	tls_misdirected(const struct conn *c);
/* The master's messages of TLS (MSG_TLS_*). */
void	tls_master_msg(enum msg_type type, const void *m, size_t len, int fd);
/* The lines "SSL_NAME=value\n" of c's session for a script; their length. */
size_t	tls_env(const struct conn *c, char *buf, size_t cap);

/* ------------------------------------------------------------ respond.c */

/* Send the batch of access-log lines to logd; kept a little longer if logd is busy. */
void	log_flush(void);
/* One combined-format line for c's request, batched; also counts it in the stats. */
void	log_access(struct conn *c);
/* Start c's response head with status, Date and Server. */
void	head_begin(struct conn *c, int status);
/* Append a field to c's head; one that does not fit sets c->out_full. */
void	head_add(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close c's head (Connection field and the blank line); ready for send_some(). */
void	head_end(struct conn *c);
/* A small HTML page for an error; keep says whether the stream is still in sync. */
void	send_error(struct conn *c, int status, int keep);
/*
 * A worker's extra fields (p[0..len)) go into every head of this answer
 * (head_begin()), its Header operations (olen bytes after them) apply to
 * every head (head_end()).
 */
void	xhdr_set(struct conn *c, const char *p, size_t len, size_t olen);
void	xhdr_clear(struct conn *c);
/* A 301 to path with a slash added (a directory asked without one). */
void	send_redirect(struct conn *c, const char *path);
/* https-only (a vhost's, or the configuration's): plain HTTP gets a 301 to
 * the same URL on https://, HTTPS answers carry HSTS; 1 if answered. */
int	https_only_check(struct conn *c, const struct route_result *rr);
/* Send an open file, the head from our own fstat; the descriptor is ours to close. */
/* flags: the worker's WRESP_ETAG_* (FileETag), 0 for Apache's default. */
void	send_file(struct conn *c, int fd, const char *ctype, const struct stat *stp,
	    unsigned flags);
/* The same as the body of an error of status (an ErrorDocument): whole, no validators. */
void	send_doc(struct conn *c, int fd, const char *ctype, const struct stat *stp, int status);
/* Write the head, then the file; 1 when done, 0 when the socket is full, -1 on error. */
int	send_some(struct conn *c);
/* A line for the error log of c (arg)'s locker, within its budget. */
void	locker_log_line(void *arg, const char *line, size_t len);

/* ------------------------------------------------------------ hdrops.c */

/*
 * A .htaccess's Header operations (c's, from its worker) on the head in
 * c->out, but the worker's own fields: before head_end() closes it.
 */
void	hdrops_apply(struct conn *c);

/* ------------------------------------------------------------ wchan.c */

/* Take c out of w's queue (answered, timed out or gone). */
void	wchan_dequeue(struct wchan *w, struct conn *c);
/* The live channel of a locker, or NULL. */
struct wchan	*wchan_find(const char *locker);
/* How many kept pool connections this front may hold for w's locker. */
unsigned	wchan_cap(const struct wchan *w);
/* A script's time limit: its locker's own, or the configuration's. */
unsigned	script_limit(const char *locker);
/* The locker's channel, created (and asked of the master) if need be; NULL: no memory. */
struct wchan	*wchan_get(const char *locker);
/* Tell w's worker it has work in hand (MSG_BUSY), at most every BUSY_EVERY_MS. */
void	wchan_busy(struct wchan *w);
/* Every request waiting for, or running in, a locker's worker or pool. */
void	busy_tell_all(void);
/* The request as the worker needs it (wire.c); its length, or 0 if it does not fit. */
size_t	wire_pack(struct conn *c, char *buf, size_t cap);
/* Write w's queued requests, many per system call; stop at a full channel. */
void	wchan_flush(struct wchan *w);
/* wchan_flush() every channel written to this round. */
void	flush_all(void);
/* Put the message for the worker in w's queue, to go at the end of the round. */
void	worker_queue(struct conn *c, struct wchan *w);
/* Queue the request for the locker's worker; with want, ask for a pool connection. */
void	worker_send(struct conn *c, struct wchan *w, int want);
/* Serve c from the caches, or send it to its locker's worker or pool. */
void	dispatch_worker(struct conn *c);
/* The channel is gone: its requests are re-sent once (status 0) or answered with status. */
void	wchan_fail(struct wchan *w, int status);
/* Read and check what w's worker sent; a bad message drops the channel. */
void	wchan_read(struct wchan *w);

/* ------------------------------------------------------------ fcache.c */

/* Serve c from the file cache; 1 if it did. */
int	fcache_serve(struct conn *c);
/*
 * Keep a copy of fd (c's file, with its type, st's ctime and c's extra
 * fields) in the file cache, under gen (wchan_keep_gen).
 */
void	fcache_put(const struct conn *c, int fd, const char *ctype, const struct stat *st,
	    uint64_t gen);
/* The worker answered c: what the file cache holds for c's file goes. */
void	fcache_answered(const struct conn *c);
/* The worker's answer to a ghost (fcache.c's background ask): kept or
 * dropped, and the ghost freed; ghost_free() alone when it goes unanswered. */
void	fcache_refreshed(struct wchan *w, struct conn *g, const struct wire_response *r,
	    size_t len, int fd);
void	ghost_free(struct wchan *w, struct conn *g);
/* w's worker handed its watch over (MSG_WATCH): what w kept before is stale. */
void	wchan_watch_set(struct wchan *w, int fd);
/*
 * Under which generation an answer r to c may be kept: 0 if it is not
 * watched (kept file-cache-valid, as ever), w's watch generation of when
 * c was sent, or WATCH_NO_KEEP (its decision may have changed since).
 */
#define WATCH_NO_KEEP	UINT64_MAX
uint64_t	wchan_keep_gen(struct wchan *w, const struct conn *c, const struct wire_response *r);
/* Drop every entry of both caches. */
void	caches_clear(void);
/* Drop the entries of the lockers the new routing table changed. */
void	caches_locker_changed(const char *locker, void *arg);
void	caches_routes_changed(const struct route_table *old, const struct route_table *new);
/* The tail of a WIRE_FCGI answer, checked (cgienv.c), as our own copy; NULL if bad. */
struct fres	*fres_parse(const struct wire_response *r, size_t len);
/* c's script as resolved a moment ago, into c->scr; 1 if it was cached. */
int	scache_get(struct conn *c);
/* Keep how c's script was resolved, for file-cache-valid, under gen. */
void	scache_put(const struct conn *c, const struct fres *r, uint64_t gen);

/* ------------------------------------------------------------ front_cgi.c */

/* A script starts on c: c->sc, zeroed; -1 without memory. */
int	script_new(struct conn *c);
/* The script's side of c is over: release it and free c->sc (none: nothing to do). */
void	cgi_end(struct conn *c);
/* Start relaying a script on fd (nph: its head is its own; pre: bytes to send first). */
void	cgi_start(struct conn *c, int fd, int nph, const void *pre, size_t prelen);
/* A script's answer refused with status; why goes to both error logs. */
void	cgi_fail(struct conn *c, int status, const char *why);
/* No spool to be had: the script waits for the client, as it always did. */
void	resp_spool_refused(struct conn *c);
/* The worker's answer to resp_ask_spool(): anything but an empty regular file is refused. */
void	resp_got_spool(struct conn *c, const struct wire_response *r, int fd);
/* Drive a running script: body up, head and body down. */
void	cgi_run(struct conn *c);

/* ------------------------------------------------------------ front_fcgi.c */

/* Take the STDOUT bytes of the pool's records into dst; STDERR to the locker's log. */
int	fcgi_take(struct conn *c, char *dst, size_t room);
/* The request's error stream ended: its last line, even without a newline. */
void	fcgi_stderr_end(struct conn *c);
/* MSG_FCGI_ASK for c's script in buf (room for a struct msg_fcgi): its length. */
size_t	fcgi_ask_pack(struct conn *c, char *buf);
/* w has messages to write at the end of the round. */
void	wchan_dirty(struct wchan *w);
/* The worker's answer to MSG_FCGI_ASK. */
void	fcgi_ask_answer(struct wchan *w, struct conn *c, const struct wire_response *r, int fd);
/* Re-send a request a kept connection dropped unanswered, once; 1 if it did. */
int	fcgi_retry(struct conn *c);
/* A pool connection on fd for w's locker (ext: its pool); NULL and fd closed on failure. */
struct kconn	*kconn_new(struct wchan *w, int fd, const char *ext, const char *pool);
/* Close it; freed at the end of the round (an event may still name it). */
void	kconn_drop(struct kconn *kc);
/* The request is over: its pool connection closed (the worker hears). */
void	kconn_release(struct conn *c);
/* w may have a pool connection free: serve its queue at the end of the round. */
void	fcgi_kick(struct wchan *w);
/* Take c out of the queue of requests waiting for a pool connection. */
void	fq_remove(struct conn *c);
/* A pool connection for c's resolved script: asked of the worker, or a place in w's queue. */
void	fcgi_acquire(struct conn *c, struct wchan *w);
/* Hand freed connections (or slots for new ones) to the requests waiting. */
void	fcgi_kick_all(void);
/* Whether a request may ask the worker for one more connection. */
int	fcgi_may_ask(const struct wchan *w);
/* The connections closed, told the worker (MSG_FCGI_DONE): 0, or -1 with
 * what is left kept for the next try. */
int	fcgi_done_flush(struct wchan *w);
/* A descriptor from the worker not used: closed, and the worker told. */
void	fcgi_fd_unused(struct wchan *w, int fd);
/* Write the request (BEGIN_REQUEST, PARAMS) on kc and run it. */
void	fcgi_begin(struct conn *c, struct kconn *kc);

#endif
