/*
 * ctl_mail.c: `locker mail status|block|unblock NAME` and `locker mail test
 * NAME ADDRESS` (outgoing mail, mail.h).  status, to admins: the totals, the hour's count against the
 * locker's rate, whether it is blocked, and its last messages (when, to
 * whom, what became of them); block and unblock, root's, audited.
 * And `locker mail no-program NAME bounce|discard` (incoming mail), admins'.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "mail.h"
#include "maillog.h"

#define STATUS_ROWS	10

static int
row_send(const struct maillog_row *r, void *arg)
{
	struct ctl_client	*c = arg;
	struct ctl_mail		 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.locker, sizeof(m.locker), "%s", c->req.name);
	m.at = r->at;
	snprintf(m.status, sizeof(m.status), "%s", r->status);
	snprintf(m.rcpts, sizeof(m.rcpts), "%s", r->rcpts);
	snprintf(m.text, sizeof(m.text), "%s", r->text);
	return reply(c, MSG_CTL_MAIL, &m, sizeof(m)) == -1;
}

static void
mail_status(struct ctl_client *c, const struct locker_rec *lr)
{
	const struct config	*lc = locker_conf(lr->name, lr->uid);
	struct ctl_mail		 m;
	int64_t			 n;
	int			 blocked;

	memset(&m, 0, sizeof(m));
	snprintf(m.locker, sizeof(m.locker), "%s", lr->name);
	if (maillog_totals(M->dir, lr->uid, &m.sent, &m.refused, &blocked) == -1 ||
	    (n = maillog_count_since(M->dir, lr->uid, time(NULL) - 3600)) == -1) {
		done(c, 1, "the directory failed");
		return;
	}
	m.blocked = blocked;
	if ((m.no_program = maillog_no_program(M->dir, lr->uid)) == -1) {
		done(c, 1, "the directory failed");
		return;
	}
	m.last_hour = (uint32_t)n;
	m.per_hour = lc->mail_per_hour;
	snprintf(m.status, sizeof(m.status), "%s", M->conf.mail_relay.host[0] == '\0' ?
	    "off" : blocked ? "blocked" : "on");
	if (reply(c, MSG_CTL_MAIL, &m, sizeof(m)) == -1 ||
	    maillog_foreach_last(M->dir, lr->uid, STATUS_ROWS, row_send, c) != 0) {
		done(c, 1, "the directory failed");
		return;
	}
	done(c, 0, NULL);
}

/* `mail test`: a notice through mail_notice(), the road lockerd's own take. */
static void
mail_test(struct ctl_client *c, const struct locker_rec *lr)
{
	static const char body[] = "This is a test message of lockerd's outgoing mail, sent "
	    "by root with `locker mail test`.\n";
	const char	*addr = c->req.argv;
	char		 err[256];

	if (c->req.argc != 1 || memchr(addr, '\0', sizeof(c->req.argv)) == NULL) {
		done(c, 64, "usage: locker mail test NAME ADDRESS");
		return;
	}
	if (mail_notice(lr->name, addr, "lockerd: a test message", body, sizeof(body) - 1,
	    err, sizeof(err)) == -1) {
		done(c, 69, "%s", err);
		return;
	}
	done(c, 0, "handed to the mail role; its relay's answer: locker mail status %s",
	    lr->name);
}

/* `mail no-program`: incoming mail's fate while NAME has no mail program,
 * its admins' to choose (mailrun.c applies it, where the program is looked for). */
static void
mail_no_program(struct ctl_client *c, const struct locker_rec *lr)
{
	const char	*v = c->req.argv;
	char		 err[256];
	int		 choice;

	if (c->req.argc != 1 || memchr(v, '\0', sizeof(c->req.argv)) == NULL ||
	    (strcmp(v, "bounce") != 0 && strcmp(v, "discard") != 0)) {
		done(c, 64, "usage: locker mail no-program NAME bounce|discard");
		return;
	}
	choice = strcmp(v, "discard") == 0 ? MAILLOG_NOPROG_DISCARD : MAILLOG_NOPROG_BOUNCE;
	if (maillog_set_no_program(M->dir, lr->uid, choice) == -1 ||
	    dir_audit(M->dir, "mail-no-program", lr->name, v, err, sizeof(err)) == -1) {
		done(c, 1, "the directory failed");
		return;
	}
	log_info("mail: locker %s: mail without a program is %s (by uid %u)", lr->name,
	    choice == MAILLOG_NOPROG_DISCARD ? "discarded" : "bounced", (unsigned)c->uid);
	done(c, 0, "mail to %s while it has no mail program is %s", lr->name,
	    choice == MAILLOG_NOPROG_DISCARD ? "discarded (250, nothing runs)" :
	    "bounced (550)");
}

/* `mail vhost`: mail at HOST for NAME's program, only if HOST is NAME's vhost
 * (the directory's row says whose it is: another locker's host is refused). */
static void
mail_vhost(struct ctl_client *c, const struct locker_rec *lr)
{
	const char	*v = c->req.argv;
	char		 err[256], detail[300], host[HOSTNAME_MAX + 1];
	int		 on, rc;

	if (c->req.argc != 1 || memchr(v, '\0', sizeof(c->req.argv)) == NULL ||
	    memchr(c->req.host, '\0', sizeof(c->req.host)) == NULL ||
	    (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)) {
		done(c, 64, "usage: locker mail vhost NAME HOST on|off");
		return;
	}
	/* The directory's spelling of a host (lower case, no trailing dot). */
	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1) {
		done(c, 64, "\"%s\" is not a host name", c->req.host);
		return;
	}
	on = strcmp(v, "on") == 0;
	if ((rc = maillog_vhost_set(M->dir, lr->name, host, on)) == -1) {
		done(c, 1, "the directory failed");
		return;
	}
	if (rc == 0) {
		done(c, 1, "%s is not a vhost of %s (locker vhost list %s)", host,
		    lr->name, lr->name);
		return;
	}
	snprintf(detail, sizeof(detail), "%s %s", host, v);
	if (dir_audit(M->dir, "mail-vhost", lr->name, detail, err, sizeof(err)) == -1) {
		done(c, 1, "the directory failed");
		return;
	}
	log_info("mail: locker %s: mail at %s %s (by uid %u)", lr->name, host, v,
	    (unsigned)c->uid);
	done(c, 0, on ? "mail to any address at %s runs %s's mail program" :
	    "mail at %s is refused (550), not %s's", host, lr->name);
}

void
do_mail(struct ctl_client *c)
{
	struct locker_rec	lr;
	char			err[256];
	int			block = c->req.verb == CTL_MAIL_BLOCK;

	if (locker_get(c, &lr) == -1)
		return;
	if (c->req.verb == CTL_MAIL_STATUS) {
		mail_status(c, &lr);
		return;
	}
	if (c->req.verb == CTL_MAIL_TEST) {
		mail_test(c, &lr);
		return;
	}
	if (c->req.verb == CTL_MAIL_NO_PROGRAM) {
		mail_no_program(c, &lr);
		return;
	}
	if (c->req.verb == CTL_MAIL_VHOST) {
		mail_vhost(c, &lr);
		return;
	}
	if (maillog_block(M->dir, lr.uid, block) == -1 ||
	    dir_audit(M->dir, block ? "mail-block" : "mail-unblock", lr.name, "", err,
	    sizeof(err)) == -1) {
		done(c, 1, "the directory failed");
		return;
	}
	log_info("mail: locker %s %s", lr.name, block ? "blocked" : "unblocked");
	done(c, 0, "mail from %s %s", lr.name, block ? "is blocked: its messages are refused" :
	    "is no longer blocked");
}
