/*
 * dirsync.h: the master <-> lockerd-dirsync messages (issue 18, fleet mode).
 *
 * lockerd-dirsync (dirsync.c) is the only process that speaks to the fleet's
 * PostgreSQL (the master never links libpq).  The master sends it each
 * transaction's change records before committing it in SQLite and waits for
 * the answer; dirsync sends the master the rows other nodes changed (the
 * feed) and whether PostgreSQL is reachable.  The records inside the memfds
 * are dirrec.h's.  Rows of msg_rules[] (msg.c) bound every one of these.
 *
 * The master's end is dir_master.c (the dirsync helper's): it starts and
 * restarts lockerd-dirsync (config: directory postgres FILE, dir-user,
 * directory-timeout), sends HELLO and each second's BEAT, and is the link
 * of dir_fleet_ops (dir_fleet.h, dirmaster's): its send() sends one
 * MSG_DIR_CHANGE and waits on the channel for its MSG_DIR_RESULT, at most
 * directory-timeout (then DIR_DOWN), holding back any MSG_DIR_ROWS that
 * come meanwhile; ROWS are handed to dir_fleet_apply() and STATE to
 * dir_fleet_state() from the master's loop.
 */
#ifndef LOCKERD_DIRSYNC_H
#define LOCKERD_DIRSYNC_H

#include <stdint.h>

#define DIR_NODE_MAX	64	/* a node's name, with its NUL (1-63 bytes) */
#define DIR_WHY_MAX	160

/* master -> dirsync, once, fd = the conninfo file, opened by the master as root */
struct msg_dir_hello {
	char		node[DIR_NODE_MAX];	/* this node's name (`node`), NUL-terminated */
	uint64_t	rev;			/* fleet_state.rev: the feed starts after it */
	uint32_t	timeout_ms;		/* directory-timeout */
	uint32_t	beat_ms;		/* how often the nodes row is written */
};

/* master -> dirsync, fd = sealed memfd of nrec change records (dirrec.h) */
struct msg_dir_change {
	uint64_t	id;			/* echoed in the result */
	uint32_t	nrec;
};

enum dir_status {
	DIR_OK = 0,		/* committed in PostgreSQL: commit locally */
	DIR_CONFLICT = 1,	/* another node changed a row first: roll back, try again */
	DIR_DOWN = 2,		/* PostgreSQL unreachable (or slower than directory-timeout) */
	DIR_ERROR = 3,		/* refused for another reason: why says it */
};

/* dirsync -> master: the answer to one MSG_DIR_CHANGE */
struct msg_dir_result {
	uint64_t	id;
	int32_t		status;			/* enum dir_status */
	uint64_t	rev;			/* DIR_OK: the highest _rev the change got */
	char		why[DIR_WHY_MAX];	/* NUL-terminated; "" on DIR_OK */
};

/* dirsync -> master, fd = sealed memfd of nrec row records (dirrec.h):
 * every change with from_rev < _rev <= to_rev; full: the records are every
 * replicated table's whole contents (replace, not merge) */
struct msg_dir_rows {
	uint64_t	from_rev, to_rev;
	uint32_t	nrec;
	uint8_t		full;
};

/* dirsync -> master: on every change of reachability (and once after HELLO) */
struct msg_dir_state {
	int32_t		up;			/* 1: changes are taken */
	int64_t		since;			/* unix seconds of the last change of up */
	char		primary[DIR_NODE_MAX];	/* the primary's host[:port], or "" */
	char		why[DIR_WHY_MAX];	/* down: why, NUL-terminated */
};

/* master -> dirsync, each second: what dirsync writes into its nodes row */
struct msg_dir_beat {
	char		state[16];		/* up | draining | stopped */
	char		addr[64];
	int32_t		load;			/* 1-minute load average x 100 */
};

#endif
