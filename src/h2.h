/*
 * h2.h: HTTP/2 in front (h2.c, h2_stream.c).  Private to front.
 *
 * A TLS connection that chose "h2" by ALPN becomes a session's parent
 * (c->h2, state C_H2): it carries frames, nghttp2 parses and makes them.
 * Each request stream is a connection of its own to the rest of front
 * (c->h2s): the same struct conn, the same state machine, the same
 * handlers, whose bytes go through h2_stream.c instead of a socket.  Its
 * request comes in as one HTTP/1.1 head that h2req.c wrote from the
 * HEADERS' fields, then its DATA; its response head, front's own bytes,
 * goes out as a HEADERS frame and its body as DATA.  So nothing that
 * serves a request knows HTTP/2 exists, and nothing of HTTP/2 can make a
 * request that HTTP/1.1 would not have been.
 */
#ifndef LOCKERD_H2_H
#define LOCKERD_H2_H

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "h2req.h"

struct conn;

/* The window over which a connection's resets and control frames are counted. */
#define H2_WINDOW_MS	10000
/* A stream's response body waiting for its DATA frames: at most this much. */
#define H2_STREAM_OUT	(64 * 1024)

struct h2_session;

struct h2_stream {
	struct h2_session	*h;
	int32_t			 id;
	struct conn		*c;		/* its request's connection; NULL: none (yet, or any more) */
	TAILQ_ENTRY(h2_stream)	 link;		/* in h->streams */
	struct h2_stream	*run_next;	/* on h->run */
	int			 on_run;
	struct h2req		 req;		/* while its header block comes */
	unsigned		 hdr_frames;	/* HEADERS + CONTINUATION of the block */
	int			 ready;		/* the head is whole: a conn may start */
	int			 refused;	/* not served (answered or reset): DATA dropped */

	/* Towards the stream's conn: the head h2req wrote, then DATA. */
	char			*in;
	size_t			 inlen, inoff, incap;
	size_t			 owed;		/* DATA bytes read in, not yet given back to the window */
	int			 in_end;	/* END_STREAM came */
	int			 first_chunk;	/* no chunk framed yet */
	int			 ck_open;	/* the last chunk's size line is unread: */
	size_t			 ck_at, ck_len;	/* ... its eight digits in in[], its size */

	/* From the stream's conn: its response. */
	char			*head;		/* the HTTP/1.1 head, gathered */
	size_t			 headlen, headcap;
	int			 head_sent;	/* a final HEADERS went out */
	int			 no_body;	/* HEAD, 204, 304, Content-Length: 0 */
	char			*out;		/* body bytes for DATA */
	size_t			 outlen, outoff, outcap;
	int			 eof;		/* the body is whole: END_STREAM after out */
	int			 deferred;	/* nghttp2 waits for bytes: resume it */
	int			 want_write;	/* the conn waits for room in out */
	int			 closed;	/* nghttp2 closed the stream */
	int			 reset_sent;
	int			 reset_when_sent;	/* RST_STREAM(NO_ERROR) once the answer is out */
};

struct h2_session {
	nghttp2_session		*ng;
	struct conn		*c;		/* the TLS connection */
	TAILQ_HEAD(, h2_stream)	 streams;
	unsigned		 nstreams;
	unsigned		 nconns;	/* of them, with a conn */
	struct h2_stream	*run;		/* streams to run once nghttp2 is out of the way */
	LIST_ENTRY(h2_session)	 flink;		/* on the dirty list: has frames to write */
	int			 dirty;
	char			*obuf;		/* frames on their way to TLS */
	size_t			 olen, ooff, ocap;
	uint64_t		 last_out;	/* when bytes last went out (stall clock) */
	uint64_t		 win_start;	/* the counting window's start */
	unsigned		 resets, controls;
	int			 goaway;	/* sent: no new streams, close when done */
	int			 dying;		/* being freed: nghttp2 is not called again */
	int			 fatal;		/* nghttp2 said the session is over */
};

/* ------------------------------------------------------------ h2.c */

/* Whether c's TLS session chose h2 (right after the handshake). */
int	h2_negotiated(const struct conn *c);
/* Make c the parent of an HTTP/2 session; -1: close c. */
int	h2_start(struct conn *c);
/* Every event of a parent: read frames, run streams, write frames. */
void	h2_run(struct conn *c);
/* A parent's deadline passed (timeouts()): 1 it was closed. */
int	h2_expired(struct conn *c);
/* The front stops: GOAWAY on every parent, close those with no stream. */
void	h2_stop(struct conn *c);
/* The parent closes: every stream's conn with it (conn_close()). */
void	h2_free(struct conn *c);
/* Write what every session has to write (round_end()). */
void	h2_flush_all(void);
/* A stream has something for its conn, or its conn something for nghttp2. */
void	h2_stream_kick(struct h2_stream *s);
/* h has frames to write: at the end of the round at the latest. */
void	h2_dirty(struct h2_session *h);
/* A stream is done with its conn and with nghttp2: free it. */
void	h2_stream_free(struct h2_stream *s);
/* Count a reset or refused stream; 1: over http2-max-resets (GOAWAY sent). */
int	h2_count_reset(struct h2_session *h);

/* ------------------------------------------------------------ h2_stream.c */

/* The stream's conn: made once its head is whole; -1: refused (no room). */
int	h2s_conn_new(struct h2_stream *s);
/* nghttp2's data source for a stream's response body. */
ssize_t	h2s_data_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
	    uint32_t *flags, nghttp2_data_source *src, void *arg);
/* DATA bytes of the request for the stream's conn; -1: no room (a protocol error). */
int	h2s_data_in(struct h2_stream *s, const uint8_t *p, size_t n);
/* END_STREAM of the request. */
void	h2s_data_end(struct h2_stream *s);
/* The stream's conn closes (conn_close()): end or reset the stream. */
void	h2s_conn_gone(struct conn *c);

/* The cio.c calls of a stream's conn. */
ssize_t	h2s_recv(struct conn *c, void *buf, size_t n);
ssize_t	h2s_send(struct conn *c, const void *buf, size_t n);
ssize_t	h2s_writev(struct conn *c, const struct iovec *iov, int niov);
ssize_t	h2s_sendfile(struct conn *c, int fd, off_t *off, size_t n);
void	h2s_shutdown(struct conn *c);

#endif
