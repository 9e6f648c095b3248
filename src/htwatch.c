/*
 * htwatch.c: the worker's watches on the directories its decisions looked
 * at, so that front can keep an answer decided under a .htaccess (issue
 * 12: "a rule change applies at once").
 *
 * front cannot stat a locker's files and must not read its .htaccess, so
 * the worker, as the locker, watches with inotify every directory of every
 * walk (web_scripts/ down to the target, and those a RewriteCond's file
 * test looked in).  Each front channel has an inotify instance of its own,
 * made here and handed to that front (MSG_WATCH): front reads it, without
 * blocking, before it serves anything from its caches, and drops the
 * locker's entries if it holds an event.  The kernel queues an event
 * before the write, rename or unlink that caused it returns, so a change
 * made before a request was sent is seen by that request: no window, and
 * no message from us to race with.  One instance per front because
 * reading an event consumes it.
 *
 * A directory once watched stays watched until a directory of ours is
 * made, removed or renamed (our own instance says so): then the paths we
 * hold may name other inodes, and every walk watches again.  Watches are
 * the locker's own (inotify charges its uid: max_user_watches); when the
 * kernel refuses one, the answer is not marked watched, and front keeps
 * nothing of it that a .htaccess decided.
 */
#include <sys/inotify.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "htwatch.h"

#define WATCH_DIRS_MAX	1024		/* directories watched per locker */
#define WATCH_SLOTS	(2 * WATCH_DIRS_MAX)
#define WATCH_CHANS	64		/* fronts' channels with an instance */

/* What front must hear of: anything that can change a walk's outcome. */
#define FRONT_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | \
			 IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* What makes our paths stale: a directory entry made, gone or moved. */
#define OWN_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
			 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static struct {
	char	 root[PATH_MAX];	/* ".../web_scripts/" */
	int	 own;			/* ours, -1: none (nothing is watched) */
	struct {
		int	chan, ifd;
	}	 ch[WATCH_CHANS];
	int	 nch;
	char	*set[WATCH_SLOTS];	/* the directories watched, by path */
	int	 nset;
	int	 ok;			/* the request's every directory is watched */
} H = { .own = -1 };

static uint32_t
slot_of(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % WATCH_SLOTS;
}

/* dir's slot: where it is, or the empty one it would go in. */
static char **
set_find(const char *dir)
{
	uint32_t i = slot_of(dir);

	while (H.set[i] != NULL && strcmp(H.set[i], dir) != 0)
		i = (i + 1) % WATCH_SLOTS;
	return &H.set[i];
}

static void
set_clear(void)
{
	int i;

	for (i = 0; i < WATCH_SLOTS; i++) {
		free(H.set[i]);
		H.set[i] = NULL;
	}
	H.nset = 0;
}

void
htwatch_init(const char *webroot)
{
	if (snprintf(H.root, sizeof(H.root), "%s/", webroot) >= (int)sizeof(H.root))
		return;
	if ((H.own = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		log_warn("worker: inotify (front keeps nothing under a .htaccess)");
}

void
htwatch_channel(int chan)
{
	int ifd;

	if (H.own == -1 || H.nch == WATCH_CHANS)
		return;
	if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("worker: inotify for a front");
		return;
	}
	/* Before any answer on chan: front reads the channel in order. */
	if (msg_send(chan, MSG_WATCH, NULL, 0, ifd) == -1) {
		close(ifd);
		return;
	}
	H.ch[H.nch].chan = chan;
	H.ch[H.nch++].ifd = ifd;
	/* The directories watched so far are not in the new instance. */
	set_clear();
}

void
htwatch_channel_gone(int chan)
{
	int i;

	for (i = 0; i < H.nch; i++)
		if (H.ch[i].chan == chan) {
			close(H.ch[i].ifd);
			H.ch[i] = H.ch[--H.nch];
			return;
		}
}

void
htwatch_begin(int chan)
{
	char	 buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int	 i, changed = 0;

	while (H.own != -1 && read(H.own, buf, sizeof(buf)) > 0)
		changed = 1;
	if (changed)
		set_clear();
	H.ok = 0;
	for (i = 0; i < H.nch; i++)
		if (H.ch[i].chan == chan)
			H.ok = 1;
}

/* 0: watched, or not there (its parent's watch sees it made); -1: not watched. */
static int
add(int ifd, const char *path, uint32_t mask)
{
	if (inotify_add_watch(ifd, path, mask) != -1 || errno == ENOENT || errno == ENOTDIR)
		return 0;
	return -1;
}

void
htwatch_dir(const char *dir)
{
	char	 path[PATH_MAX];
	char	**slot;
	int	 i;

	if (!H.ok || *(slot = set_find(dir)) != NULL)
		return;
	if (H.nset == WATCH_DIRS_MAX) {
		/* A cache of what is watched (the kernel keeps the watches):
		 * paths that did not exist (permalinks) fill it too. */
		set_clear();
		slot = set_find(dir);
	}
	if (snprintf(path, sizeof(path), "%s%s", H.root, dir) >= (int)sizeof(path) ||
	    add(H.own, path, OWN_MASK) == -1) {
		H.ok = 0;
		return;
	}
	for (i = 0; i < H.nch; i++)
		if (add(H.ch[i].ifd, path, FRONT_MASK) == -1) {
			H.ok = 0;
			return;
		}
	if ((*slot = strdup(dir)) == NULL) {
		H.ok = 0;
		return;
	}
	H.nset++;
}

void
htwatch_path(const char *rel)
{
	char	 dir[PATH_MAX];
	size_t	 i, n;

	if (rel == NULL) {
		H.ok = 0;
		return;
	}
	while (*rel == '/')
		rel++;
	if ((n = strlen(rel)) >= sizeof(dir)) {
		H.ok = 0;
		return;
	}
	/* "", then "a/", "a/b/" ... up to rel's own directory. */
	htwatch_dir("");
	for (i = 0; i < n; i++) {
		if (rel[i] != '/' || i == 0)
			continue;
		memcpy(dir, rel, i + 1);
		dir[i + 1] = '\0';
		htwatch_dir(dir);
	}
}

int
htwatch_ok(void)
{
	return H.ok;
}
