/*
 * ctl_vhosts.c: the control verbs of virtual hosts: vhost add (a claim
 * pending a DNS proof for a name of the world), verify and its completion
 * when proof.c's answer comes (control_proof_done()), remove, list.  The
 * rules of which names a locker may have are vhost.c's; this file asks
 * them and writes the directory.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "vhost.h"

/* ------------------------------------------------------------ vhosts */

/* The vhost's own choice of HTTPS the request makes (ROUTE_HTTPS_*). */
static int
vhost_https(const struct ctl_client *c)
{
	if (c->req.flags & CTL_F_HTTPS_ONLY)
		return ROUTE_HTTPS_ONLY;
	if (c->req.flags & CTL_F_PLAIN_OK)
		return ROUTE_HTTPS_PLAIN_OK;
	return ROUTE_HTTPS_DEFAULT;
}

/* `vhost add` again of a locker's own vhost, with --https-only or
 * --no-https-only and no other change: that choice alone changes. */
static void
vhost_rechoose(struct ctl_client *c, const struct vhost_rec *old)
{
	char err[512];

	if (dir_vhost_set_https(M->dir, old->host, vhost_https(c), err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	log_info("vhost %s: %s", old->host, vhost_https(c) == ROUTE_HTTPS_ONLY ?
	    "https-only" : "no-https-only");
	routes_vhost_changed(old->host);
	done(c, 0, NULL);
}

/*
 * A host outside the domain, asked for by an admin: a claim, pending until
 * the admin proves the name in the DNS (vhost.c), with what to publish.
 */
static void
vhost_claim(struct ctl_client *c, const struct locker_rec *lr, const char *host)
{
	struct vhost_claim	 cl;
	char			 token[VHOST_TOKEN_LEN + 1], rr[HOSTNAME_MAX + 32];
	char			 line[1024], err[512];

	if (vhost_token_new(token, sizeof(token)) == -1) {
		done(c, 1, "no randomness for a token; try again");
		return;
	}
	if (dir_vhost_claim(M->dir, host, lr->name, c->req.subdir, vhost_https(c), token, &cl,
	    err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	vhost_proof_name(host, rr, sizeof(rr));
	snprintf(line, sizeof(line), "%s is pending until you prove the name is yours: "
	    "publish this DNS record,\n  %s. IN TXT \"%s\"\nthen run: locker vhost "
	    "verify %s %s", host, rr, cl.token, lr->name, host);
	log_info("vhost claim: %s by %s", host, lr->name);
	text(c, line);
	done(c, 0, NULL);
}

/* root's --force: the host leaves the locker that had it. */
static int
vhost_take(struct ctl_client *c, const struct vhost_rec *old)
{
	char err[512];

	if (dir_vhost_remove(M->dir, old->host, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return -1;
	}
	log_info("vhost %s taken from %s (--force)", old->host, old->locker);
	routes_vhost_changed(old->host);	/* gone even if a claim follows */
	return 0;
}

void
do_vhost_add(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct vhost_rec	 old;
	char			 host[HOSTNAME_MAX + 1], why[256], err[512];
	int			 force = (c->req.flags & CTL_F_FORCE) != 0;

	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1 ||
	    strchr(c->req.host, ':') != NULL || strchr(host, '.') == NULL) {
		done(c, 2, "invalid host name \"%s\"", c->req.host);
		return;
	}
	if (locker_get(c, &lr) == -1)
		return;
	if (vhost_https(c) == ROUTE_HTTPS_ONLY && !config_has_tls(&M->conf)) {
		done(c, 1, "--https-only needs a TLS listener (listen ADDR:PORT tls in %s)",
		    M->conf.path);
		return;
	}
	if (c->req.subdir[0] != '\0' && subdir_check(c->req.subdir, why, sizeof(why)) == -1) {
		done(c, 2, "invalid --path \"%s\": %s", c->req.subdir, why);
		return;
	}
	if (vhost_name_check(&M->conf, host, lr.name, why, sizeof(why)) == -1) {
		done(c, 1, "cannot add %s: %s", host, why);
		return;
	}
	if (dir_vhost_get(M->dir, host, &old) == 1) {
		if (strcmp(old.locker, lr.name) == 0 && vhost_https(c) != ROUTE_HTTPS_DEFAULT &&
		    strcmp(old.subdir, c->req.subdir) == 0) {
			vhost_rechoose(c, &old);
			return;
		}
		if (!force || strcmp(old.locker, lr.name) == 0) {
			done(c, 1, "vhost %s already belongs to %s", host,
			    strcmp(old.locker, lr.name) == 0 ? "this locker" : "another locker");
			return;
		}
		if (vhost_take(c, &old) == -1)
			return;
	}
	/* root vouches for what it adds; a locker proves a name of the world. */
	if (c->uid != 0 && vhost_needs_proof(&M->conf, host)) {
		vhost_claim(c, &lr, host);
		return;
	}
	if (dir_vhost_add(M->dir, host, lr.name, c->req.subdir, vhost_https(c), err,
	    sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	log_info("vhost add: %s -> %s/%s", host, lr.name, c->req.subdir);
	routes_vhost_changed(host);
	done(c, 0, NULL);
}

/*
 * What verify needs, before the DNS is asked and again once it answered
 * (the directory may have changed meanwhile: the host proved by another
 * locker, the claim withdrawn, the name a service host since a reload; the
 * caller no longer an admin is verb_allowed()'s): 0 with the claim, or -1
 * and answered.
 */
static int
verify_ready(struct ctl_client *c, char *host, size_t hostsz, struct locker_rec *lr,
    struct vhost_claim *cl)
{
	struct vhost_rec	old;
	char			why[256];

	if (route_canon_host(c->req.host, strlen(c->req.host), host, hostsz) == -1) {
		done(c, 2, "invalid host name \"%s\"", c->req.host);
		return -1;
	}
	if (locker_get(c, lr) == -1)
		return -1;
	if (dir_vhost_get(M->dir, host, &old) == 1) {
		done(c, strcmp(old.locker, lr->name) == 0 ? 0 : 1, "vhost %s already "
		    "belongs to %s", host, strcmp(old.locker, lr->name) == 0 ?
		    "this locker" : "another locker");
		return -1;
	}
	if (dir_vhost_claim_get(M->dir, host, lr->name, cl) != 1) {
		done(c, 1, "%s has no pending claim to %s (locker vhost add it first)",
		    lr->name, host);
		return -1;
	}
	/* The rules may have changed since the claim (a new hostname, say). */
	if (vhost_name_check(&M->conf, host, lr->name, why, sizeof(why)) == -1) {
		done(c, 1, "cannot add %s: %s", host, why);
		return -1;
	}
	return 0;
}

/*
 * `locker vhost verify NAME HOST`: is the claim's TXT record in the DNS?
 * The master does not wait for the answer (proof.c): control_proof_done()
 * completes the claim when it comes.
 */
void
do_vhost_verify(struct ctl_client *c)
{
	struct locker_rec	 lr;
	struct vhost_claim	 cl;
	char			 host[HOSTNAME_MAX + 1], err[256];

	if (verify_ready(c, host, sizeof(host), &lr, &cl) == -1)
		return;
	if (proof_start(c, host, cl.token, err, sizeof(err)) == -1)
		done(c, 75, "%s", err);	/* EX_TEMPFAIL */
}

void
control_proof_done(struct ctl_client *c, const char *token, int answer)
{
	struct locker_rec	 lr;
	struct vhost_claim	 cl;
	char			 host[HOSTNAME_MAX + 1], rr[HOSTNAME_MAX + 32], err[512];

	dir_set_actor(M->dir, (uint32_t)c->uid);
	if (!verb_allowed(c, verb_by_id(CTL_VHOST_VERIFY)) ||
	    verify_ready(c, host, sizeof(host), &lr, &cl) == -1)
		return;
	if (strcmp(cl.token, token) != 0) {
		done(c, 1, "the claim to %s was made again while the DNS was asked; "
		    "run verify again", host);
		return;
	}
	vhost_proof_name(host, rr, sizeof(rr));
	switch (answer) {
	case VHOST_PROOF_NOANSWER:
		done(c, 1, "the DNS gave no answer for %s; try again", rr);
		return;
	case VHOST_PROOF_NO:
		done(c, 1, "no TXT record \"%s\" at %s (yet?)", cl.token, rr);
		return;
	}
	if (dir_vhost_add(M->dir, host, lr.name, cl.subdir, cl.https, err, sizeof(err)) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	log_info("vhost add: %s -> %s/%s (proved in the DNS)", host, lr.name, cl.subdir);
	routes_vhost_changed(host);
	done(c, 0, NULL);
}

void
do_vhost_remove(struct ctl_client *c)
{
	struct vhost_rec	old;
	char			host[HOSTNAME_MAX + 1], err[512];
	int			rc;

	if (route_canon_host(c->req.host, strlen(c->req.host), host, sizeof(host)) == -1) {
		done(c, 2, "invalid host name \"%s\"", c->req.host);
		return;
	}
	if ((rc = dir_vhost_get(M->dir, host, &old)) != 1) {
		/* Not a vhost: a pending claim of the caller's lockers, perhaps. */
		if ((rc = dir_vhost_unclaim(M->dir, host, (uint32_t)c->uid, err,
		    sizeof(err))) == -1) {
			done(c, 1, "%s", err);
			return;
		}
		if (rc > 0) {
			done(c, 0, NULL);
			return;
		}
		/* Not "no vhost": whether another's claim exists is not theirs to learn. */
		if (c->uid != 0) {
			done(c, 77, "permission denied: %s is not a vhost of a locker "
			    "you are an admin of", host);
			return;
		}
		done(c, 1, "no vhost %s", host);
		return;
	}
	if ((rc = dir_vhost_remove(M->dir, host, err, sizeof(err))) == -1) {
		done(c, 1, "%s", err);
		return;
	}
	if (rc == 0) {
		done(c, 1, "no vhost %s", host);
		return;
	}
	log_info("vhost remove: %s", host);
	routes_vhost_changed(host);
	done(c, 0, NULL);
}

void
do_vhost_list(struct ctl_client *c)
{
	dir_vhost_foreach(M->dir, c->req.name[0] ? c->req.name : NULL, vhost_cb, c);
	done(c, 0, NULL);
}
