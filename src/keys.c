/*
 * keys.c: the master's side of keyd, the key process (keyd.c).
 *
 * The master starts keyd like logd and restarts it when it dies; each
 * start gives keyd a fresh channel to every front (MSG_KEY_CHAN, one end
 * to each: a front's old channel went with the old keyd) and every key
 * again, since a new keyd holds none.  A front that starts gets its own
 * channel too.  The master opens the key files, as root, and passes only
 * the descriptors: keyd's root is tls-dir and it may open nothing.
 *
 * Which keys there are is the certificate registry's (the TLS part's
 * certs.c): it calls keyd_load() for each and keyd_forget_before() once
 * the fronts have moved to a new set.
 */
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "certs.h"

void
keyd_link_front(struct child *f)
{
	uint32_t	idx = (uint32_t)f->idx;
	int		sv[2];

	if (M->keyd.pid <= 0 || f->pid <= 0)
		return;
	if (chan_pair(sv) == -1) {
		log_warn("socketpair");
		return;
	}
	if (child_send(&M->keyd, MSG_KEY_CHAN, &idx, sizeof(idx), sv[0]) == 0)
		child_send(f, MSG_KEY_CHAN, &idx, sizeof(idx), sv[1]);
	close(sv[0]);
	close(sv[1]);
}

void
keyd_start(void)
{
	struct child	*k = &M->keyd;
	int		 end, i;

	if ((end = new_channel(k)) == -1) {
		k->restart_at_ms = now_ms() + 1000;
		return;
	}
	k->pid = spawn_role(M->exe_fd, "keyd", NULL, end, NULL, 0, NULL, NULL);
	close(end);
	if (child_spawned(k, "keyd") == -1)
		return;
	if (k->restarts > 0)
		log_warnx("keyd started again (pid %d): every front gets a new channel to it, "
		    "and it gets the keys", (int)k->pid);
	for (i = 0; i < M->nfronts; i++)
		keyd_link_front(&M->fronts[i]);
	certs_send_keys();
}

int
keyd_load(uint32_t key_id, int fd)
{
	if (M->keyd.pid <= 0)
		return -1;
	return child_send(&M->keyd, MSG_KEY_LOAD, &key_id, sizeof(key_id), fd);
}

int
keyd_forget_before(uint32_t key_id)
{
	if (M->keyd.pid <= 0)
		return -1;
	return child_send(&M->keyd, MSG_KEY_FORGET, &key_id, sizeof(key_id), -1);
}
