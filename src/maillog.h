/*
 * maillog.h: outgoing mail's records in the directory (maillog.c): each
 * message a locker sent or was refused, its totals and its block, by uid.
 * Only the master calls these (it is the directory's one writer).
 */
#ifndef LOCKERD_MAILLOG_H
#define LOCKERD_MAILLOG_H

#include <stddef.h>
#include <stdint.h>

struct directory;

#define MAILLOG_KEEP	20	/* rows kept past the hour the rate counts */

struct maillog_row {
	uint64_t	id;
	int64_t		at;
	char		status[16];	/* granted, sent, failed, refused, notice */
	char		rcpts[256];
	uint64_t	bytes;
	char		text[256];
};

/* A row (its id in *id); "refused" counts in the totals at once. 0 or -1. */
int	maillog_add(struct directory *d, uint32_t uid, int64_t now, const char *status,
	    const char *rcpts, uint64_t bytes, const char *text, uint64_t *id);
/* A granted row's end (sent, failed, refused), counted: 0, or -1 if the
 * row is not uid's granted one. */
int	maillog_finish(struct directory *d, uint64_t id, uint32_t uid, const char *status,
	    const char *rcpts, const char *text);
/* Messages of uid granted since then (what its rate counts), or -1. */
int64_t	maillog_count_since(struct directory *d, uint32_t uid, int64_t since);
int	maillog_totals(struct directory *d, uint32_t uid, uint64_t *sent, uint64_t *refused,
	    int *blocked);
int	maillog_block(struct directory *d, uint32_t uid, int blocked);
/* Incoming mail to a locker without a mail program: its admins' choice, or -1. */
#define MAILLOG_NOPROG_BOUNCE	0	/* 550: the sender hears (the default) */
#define MAILLOG_NOPROG_DISCARD	1	/* 250, and nothing runs */
int	maillog_no_program(struct directory *d, uint32_t uid);
int	maillog_set_no_program(struct directory *d, uint32_t uid, int choice);
/* Incoming mail at a vhost of a locker's, turned on by its admins. */
int	maillog_vhost_locker(struct directory *d, const char *host, char *locker,
	    size_t lockersz);
int	maillog_vhost_set(struct directory *d, const char *locker, const char *host, int on);
/* uid's last n rows, oldest first. */
int	maillog_foreach_last(struct directory *d, uint32_t uid, int n,
	    int (*cb)(const struct maillog_row *, void *), void *arg);

#endif
