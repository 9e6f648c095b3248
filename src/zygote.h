/*
 * zygote.h: the PHP zygote's words, shared by the master (zygote.c), the
 * library preloaded into the zygote's php-cgi (zygote_lib.c, zygote_enter.c)
 * and the worker (script.c).
 *
 * A worker that wants a PHP process makes a socketpair, its "line" to the
 * zygote.  On its end it first puts ZW_LISTEN (the pool's listening socket,
 * with the pool's directory as data) and ZW_STDERR (the write end of the
 * process's stderr pipe), then hands the other end to the master
 * (MSG_PHP_FORK), which passes it on to the zygote with what the locker
 * is (MSG_ZYGOTE_FORK): the zygote learns whose it is from the master,
 * never from the worker.  The zygote answers on the line ZW_PID (the
 * process's pid in the locker's pid namespace) and, when the process ends,
 * ZW_EXIT (its wait status); the worker may ask ZW_KILL meanwhile (the
 * worker's Landlock domain may not signal a process outside it, and the
 * zygote's children are outside it).
 */
#ifndef LOCKERD_ZYGOTE_H
#define LOCKERD_ZYGOTE_H

#include <stdint.h>

enum zygote_word_kind {
	ZW_LISTEN = 1,		/* worker -> zygote, fd: the pool's socket; data: its dir */
	ZW_STDERR,		/* worker -> zygote, fd: the stderr pipe's write end */
	ZW_PID,			/* zygote -> worker: value = the pid in the locker's namespace */
	ZW_KILL,		/* worker -> zygote: value = SIGTERM or SIGKILL */
	ZW_EXIT,		/* zygote -> worker: value = the wait status */
};

struct zygote_word {
	uint32_t	kind;
	int32_t		value;
};

/* The most a ZW_LISTEN carries: the word and the pool's directory. */
#define ZW_DIR_MAX	4096

/* Environment of the zygote's php-cgi (set by the master, read and cleared
 * by the library before PHP's main runs). */
#define ZYGOTE_ENV	"LOCKERD_ZYGOTE"
#define ZYGOTE_LIB	"liblockerd-zygote.so"

#endif
