/*
 * acme_share.c: HTTP-01 answers shared by the nodes of a fleet.
 *
 * A load balancer may send the CA's check of a name to any node, but only
 * the node holding the `acme` lease has its ACME client order, and its
 * master alone hears the tokens.  So that master also writes each live
 * token as a file of tls-dir/acme-tokens/ (on the shared storage: root's,
 * the token its name, the key authorization its content -- both are public
 * by nature: the CA fetches them over plain HTTP), and removes it when the
 * challenge is over.  Every other node's master looks at that directory
 * four times a second while it is not the holder and hands what it finds
 * to its fronts as if its own ACME client had said so (acme_token_relay():
 * the same checks).  In a fleet the holder's ACME client waits long enough
 * after publishing for the others to have looked (acme.c).  The files are
 * written only by masters (root): no locker can write tls-dir.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "master.h"
#include "acme.h"
#include "lease.h"

#define TOKENS_DIR	"acme-tokens"
#define POLL_MS		250

/* The tokens this (non-holder) node relayed from the directory. */
static char	relayed[ACME_TOKENS_MAX][ACME_TOKEN_MAX + 1];

static int
dir_path(char *out, size_t outsz, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s%s%s", M->conf.tls_dir, TOKENS_DIR,
	    name != NULL ? "/" : "", name != NULL ? name : "");

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* The holder: a token set is written (temporary file, rename), one
 * cleared removed.  Failures are logged: the node's own fronts have it. */
void
acme_share_publish(const struct msg_acme_token *t)
{
	char	path[PATH_MAX], tmp[PATH_MAX];
	int	fd, ok;

	if (dir_path(path, sizeof(path), NULL) == -1 || (mkdir(path, 0755) == -1 &&
	    errno != EEXIST) || dir_path(path, sizeof(path), t->token) == -1)
		return;
	if (!t->set) {
		unlink(path);
		return;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("acme: %s", tmp);
		return;
	}
	ok = write_all(fd, t->keyauth, strlen(t->keyauth)) == 0;
	close(fd);
	if (!ok || rename(tmp, path) == -1) {
		log_warn("acme: cannot publish a token for the fleet in %s", path);
		unlink(tmp);
	}
}

static int
relayed_index(const char *token)
{
	int i;

	for (i = 0; i < ACME_TOKENS_MAX; i++)
		if (relayed[i][0] != '\0' && strcmp(relayed[i], token) == 0)
			return i;
	return -1;
}

/* One file of the directory: a token not relayed yet is, if it is one. */
static void
found(int dfd, const char *name, char *present)
{
	struct msg_acme_token	 t;
	ssize_t			 n;
	int			 fd, i;

	if (!acme_token_ok(name))
		return;
	if ((i = relayed_index(name)) != -1) {
		present[i] = 1;
		return;
	}
	for (i = 0; i < ACME_TOKENS_MAX && relayed[i][0] != '\0'; i++)
		;
	if (i == ACME_TOKENS_MAX ||
	    (fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return;
	memset(&t, 0, sizeof(t));
	n = read(fd, t.keyauth, sizeof(t.keyauth) - 1);
	close(fd);
	if (n <= 0)
		return;
	t.set = 1;
	snprintf(t.token, sizeof(t.token), "%s", name);
	if (acme_token_relay(&t) != NULL)
		return;
	snprintf(relayed[i], sizeof(relayed[i]), "%s", name);
	present[i] = 1;
}

/* Not the holder: the holder's live tokens to this node's fronts, and
 * those gone since cleared.  The holder relays its own, from acme. */
void
acme_share_tick(void)
{
	static uint64_t		 next;
	struct msg_acme_token	 t;
	char			 path[PATH_MAX], present[ACME_TOKENS_MAX];
	struct dirent		*e;
	DIR			*d;
	int			 i;

	if (M->conf.acme_ca[0] == '\0' || now_ms() < next)
		return;
	next = now_ms() + POLL_MS;
	memset(present, 0, sizeof(present));
	if (!lease_mine("acme") && dir_path(path, sizeof(path), NULL) == 0 &&
	    (d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL)
			found(dirfd(d), e->d_name, present);
		closedir(d);
	}
	for (i = 0; i < ACME_TOKENS_MAX; i++)
		if (relayed[i][0] != '\0' && !present[i]) {
			memset(&t, 0, sizeof(t));
			snprintf(t.token, sizeof(t.token), "%s", relayed[i]);
			acme_token_relay(&t);
			relayed[i][0] = '\0';
		}
}
