/*
 * fcgi.h: the FastCGI record format (FastCGI 1.0 specification), as pure
 * functions: encoding what lockerd sends to a locker's PHP, and an
 * incremental reader of what it answers.  What a locker's FastCGI process
 * says is as hostile as anything from the network: the reader is fuzzed.
 */
#ifndef LOCKERD_FCGI_H
#define LOCKERD_FCGI_H

#include <stddef.h>
#include <stdint.h>

#define FCGI_HEADER_LEN		8
#define FCGI_MAX_CONTENT	65535

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST,
	FCGI_END_REQUEST,
	FCGI_PARAMS,
	FCGI_STDIN,
	FCGI_STDOUT,
	FCGI_STDERR,
	FCGI_DATA,
	FCGI_GET_VALUES,
	FCGI_GET_VALUES_RESULT,
	FCGI_UNKNOWN_TYPE,
};

#define FCGI_RESPONDER		1

/* --- encoding --- */

/* A record header into out[8]. */
void	fcgi_header(unsigned char out[FCGI_HEADER_LEN], enum fcgi_type type, uint16_t id,
	    uint16_t content_len, uint8_t padding_len);
/* A whole FCGI_BEGIN_REQUEST record (role responder) into out[16]. */
void	fcgi_begin_request(unsigned char out[16], uint16_t id, int keep_conn);
/*
 * One name-value pair in the PARAMS encoding (1- or 4-byte lengths),
 * appended at out; returns its length, or 0 if it does not fit in cap.
 */
size_t	fcgi_param(unsigned char *out, size_t cap, const char *name, size_t nlen,
	    const char *value, size_t vlen);

/* --- decoding --- */

enum fcgi_event {
	FCGI_EV_MORE = 0,	/* all input consumed; nothing to report */
	FCGI_EV_STDOUT,		/* *data, *dlen: a piece of the response */
	FCGI_EV_STDERR,		/* *data, *dlen: a piece of the error stream */
	FCGI_EV_END,		/* END_REQUEST for our id: app_status set */
	FCGI_EV_ERROR,		/* malformed: version, an id not ours, a bad END_REQUEST ... */
};

struct fcgi_reader {
	uint16_t	id;		/* the request id we expect */
	int		state;
	unsigned char	hdr[FCGI_HEADER_LEN];
	size_t		have;		/* bytes of hdr, or of an END_REQUEST body, so far */
	unsigned char	body[8];	/* END_REQUEST body */
	int		type;
	size_t		content_left;
	size_t		padding_left;
	int		ended;		/* END_REQUEST seen: anything more is an error */
	uint32_t	app_status;
	int		protocol_status;
};

void	fcgi_reader_init(struct fcgi_reader *r, uint16_t id);
/*
 * Consume bytes from in[0..len) until there is something to report.
 * *used says how many were consumed (always, whatever the event).  For
 * STDOUT and STDERR, *data and *dlen point at payload bytes inside in (a
 * record's content may come in several pieces; empty STDOUT/STDERR records,
 * which end those streams, are not reported).  Records of other types for
 * our id (GET_VALUES_RESULT, UNKNOWN_TYPE, DATA) are skipped; a record for
 * another request id, a version other than 1, a STDIN/PARAMS/BEGIN record
 * (those go the other way), or an END_REQUEST whose content is not 8 bytes
 * is FCGI_EV_ERROR, and the reader stays in error.
 */
enum fcgi_event fcgi_read(struct fcgi_reader *r, const unsigned char *in, size_t len,
	    size_t *used, const unsigned char **data, size_t *dlen);

#endif
