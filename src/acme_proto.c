/*
 * acme_proto.c: what the ACME CA sends, read with jansson into bounded
 * structs (RFC 8555 section 7): the directory, orders, authorizations,
 * challenges and problem documents.  Nothing here does I/O, so the fuzz
 * target runs every parser on whatever bytes it likes.  Every URL kept
 * must be https://, every string must fit its field, or the document is
 * refused as a whole.
 *
 * Also the few checks the master, front and acme share on the names and
 * tokens that cross between them.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lockerd.h"
#include "acme_int.h"

/* ------------------------------------------------------------ shared */

const char *
acme_state_name(int state)
{
	switch (state) {
	case ACME_ST_PENDING:		return "pending";
	case ACME_ST_ISSUED:		return "issued";
	case ACME_ST_FAILED:		return "failed";
	case ACME_ST_RATE_LIMITED:	return "rate-limited";
	case ACME_ST_EXPIRED:		return "expired";
	}
	return "none";
}

static int
b64url_char(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

int
acme_token_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= ACME_TOKEN_MAX || !b64url_char((unsigned char)s[i]))
			return 0;
	return i > 0;
}

int
acme_keyauth_ok(const char *s)
{
	const char	*dot = strchr(s, '.');
	char		 tok[ACME_TOKEN_MAX + 1];
	size_t		 i;

	if (dot == NULL || (size_t)(dot - s) > ACME_TOKEN_MAX || strlen(s) > ACME_KEYAUTH_MAX)
		return 0;
	memcpy(tok, s, (size_t)(dot - s));
	tok[dot - s] = '\0';
	for (i = 1; dot[i] != '\0'; i++)
		if (!b64url_char((unsigned char)dot[i]))
			return 0;
	return i > 1 && acme_token_ok(tok);
}

int
acme_host_file(const char *host, char *out, size_t outsz)
{
	char	canon[HOSTNAME_MAX + 1];
	int	wild = strncmp(host, "*.", 2) == 0;

	if (route_canon_host(host + (wild ? 2 : 0), strlen(host + (wild ? 2 : 0)), canon,
	    sizeof(canon)) == -1 || strcmp(canon, host + (wild ? 2 : 0)) != 0 ||
	    strchr(canon, ':') != NULL || canon[0] == '.' || strstr(canon, "..") != NULL ||
	    strchr(canon, '/') != NULL)
		return -1;
	if (snprintf(out, outsz, "%s%s", wild ? "_wildcard." : "", canon) >= (int)outsz)
		return -1;
	return 0;
}

/* ------------------------------------------------------------ documents */

static json_t *
load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL) {
		snprintf(err, errlen, "not JSON: %.100s", je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* key's string into out; need: absent is an error; url: https:// only. */
static int
get_str(json_t *o, const char *key, char *out, size_t outsz, int need, int url, char *err,
    size_t errlen)
{
	json_t		*v = json_object_get(o, key);
	const char	*s;
	struct acme_url	 u;

	out[0] = '\0';
	if (v == NULL && !need)
		return 0;
	if (!json_is_string(v) || strlen(s = json_string_value(v)) >= outsz ||
	    !str_is_printable(s) || (url && acme_url_parse(s, &u) == -1)) {
		snprintf(err, errlen, "\"%s\" is %s", key, v == NULL ? "missing" :
		    "not a string of the expected form");
		return -1;
	}
	snprintf(out, outsz, "%s", s);
	return 0;
}

int
acme_parse_directory(const char *body, size_t len, struct acme_dir *d, char *err,
    size_t errlen)
{
	json_t	*j;
	int	 rc = -1;

	memset(d, 0, sizeof(*d));
	if ((j = load(body, len, err, errlen)) == NULL)
		return -1;
	if (get_str(j, "newNonce", d->new_nonce, sizeof(d->new_nonce), 1, 1, err, errlen) == 0 &&
	    get_str(j, "newAccount", d->new_account, sizeof(d->new_account), 1, 1, err,
	    errlen) == 0 &&
	    get_str(j, "newOrder", d->new_order, sizeof(d->new_order), 1, 1, err, errlen) == 0 &&
	    get_str(j, "renewalInfo", d->renewal_info, sizeof(d->renewal_info), 0, 1, err,
	    errlen) == 0)
		rc = 0;
	json_decref(j);
	return rc;
}

int
acme_parse_status(const char *body, size_t len, char *status, size_t statussz, char *err,
    size_t errlen)
{
	json_t	*j;
	int	 rc;

	if ((j = load(body, len, err, errlen)) == NULL)
		return -1;
	rc = get_str(j, "status", status, statussz, 1, 0, err, errlen);
	json_decref(j);
	return rc;
}

int
acme_parse_order(const char *body, size_t len, struct acme_order *o, char *err,
    size_t errlen)
{
	json_t	*j, *a, *v;
	size_t	 i;
	int	 rc = -1;

	memset(o, 0, sizeof(*o));
	if ((j = load(body, len, err, errlen)) == NULL)
		return -1;
	if (get_str(j, "status", o->status, sizeof(o->status), 1, 0, err, errlen) == -1 ||
	    get_str(j, "finalize", o->finalize, sizeof(o->finalize), 1, 1, err, errlen) == -1 ||
	    get_str(j, "certificate", o->certificate, sizeof(o->certificate), 0, 1, err,
	    errlen) == -1)
		goto done;
	a = json_object_get(j, "authorizations");
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > ACME_AUTHZ_MAX) {
		snprintf(err, errlen, "\"authorizations\" is not a list of 1 to %d",
		    ACME_AUTHZ_MAX);
		goto done;
	}
	json_array_foreach(a, i, v) {
		struct acme_url u;

		if (!json_is_string(v) || strlen(json_string_value(v)) >= ACME_URL_MAX ||
		    acme_url_parse(json_string_value(v), &u) == -1) {
			snprintf(err, errlen, "an authorization is not an https:// URL");
			goto done;
		}
		snprintf(o->authz[o->nauthz++], ACME_URL_MAX, "%s", json_string_value(v));
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}

static int
parse_chal(json_t *c, struct acme_chal *ch, char *err, size_t errlen)
{
	if (!json_is_object(c)) {
		snprintf(err, errlen, "a challenge is not an object");
		return -1;
	}
	if (get_str(c, "type", ch->type, sizeof(ch->type), 1, 0, err, errlen) == -1) {
		ch->type[0] = '\0';	/* a type of a name too long: not one we do */
		return 0;
	}
	if (get_str(c, "url", ch->url, sizeof(ch->url), 1, 1, err, errlen) == -1 ||
	    get_str(c, "status", ch->status, sizeof(ch->status), 1, 0, err, errlen) == -1 ||
	    get_str(c, "token", ch->token, sizeof(ch->token), 0, 0, err, errlen) == -1)
		return -1;
	if (ch->token[0] != '\0' && !acme_token_ok(ch->token)) {
		snprintf(err, errlen, "a challenge's token is not base64url");
		return -1;
	}
	return 0;
}

int
acme_parse_authz(const char *body, size_t len, struct acme_authz *a, char *err,
    size_t errlen)
{
	json_t	*j, *id, *cs, *c;
	size_t	 i;
	int	 rc = -1;

	memset(a, 0, sizeof(*a));
	if ((j = load(body, len, err, errlen)) == NULL)
		return -1;
	if (get_str(j, "status", a->status, sizeof(a->status), 1, 0, err, errlen) == -1)
		goto done;
	id = json_object_get(j, "identifier");
	if (!json_is_object(id) ||
	    get_str(id, "value", a->ident, sizeof(a->ident), 1, 0, err, errlen) == -1)
		goto done;
	a->wildcard = json_is_true(json_object_get(j, "wildcard"));
	cs = json_object_get(j, "challenges");
	if (!json_is_array(cs)) {
		snprintf(err, errlen, "\"challenges\" is not a list");
		goto done;
	}
	json_array_foreach(cs, i, c) {
		if (a->nchal == ACME_CHAL_MAX)
			break;		/* more kinds than we know: the first are enough */
		if (parse_chal(c, &a->chal[a->nchal], err, errlen) == -1)
			goto done;
		a->nchal++;
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}

/* A problem's detail, printable, cut to fit. */
static void
detail_of(json_t *prob, char *out, size_t outsz)
{
	json_t	*d = json_is_object(prob) ? json_object_get(prob, "detail") : NULL;
	size_t	 i;

	out[0] = '\0';
	if (!json_is_string(d))
		return;
	snprintf(out, outsz, "%s", json_string_value(d));
	for (i = 0; out[i]; i++)
		if (!isprint((unsigned char)out[i]))
			out[i] = '?';
}

void
acme_parse_problem(const char *body, size_t len, struct acme_problem *p)
{
	char	 err[64];
	json_t	*j;

	memset(p, 0, sizeof(*p));
	if (body == NULL || (j = load(body, len, err, sizeof(err))) == NULL) {
		snprintf(p->detail, sizeof(p->detail), "(no problem document)");
		return;
	}
	if (get_str(j, "type", p->type, sizeof(p->type), 0, 0, err, sizeof(err)) == -1)
		p->type[0] = '\0';
	detail_of(j, p->detail, sizeof(p->detail));
	json_decref(j);
}

void
acme_parse_authz_error(const char *body, size_t len, char *out, size_t outsz)
{
	char	 err[64];
	json_t	*j, *ch;
	size_t	 i;

	out[0] = '\0';
	if (body == NULL || (j = load(body, len, err, sizeof(err))) == NULL)
		return;
	json_array_foreach(json_object_get(j, "challenges"), i, ch) {
		detail_of(json_object_get(ch, "error"), out, outsz);
		if (out[0] != '\0')
			break;
	}
	json_decref(j);
}

int64_t
acme_parse_renewal_info(const char *body, size_t len)
{
	char		 err[64], start[40];
	json_t		*j, *w;
	struct tm	 tm;
	int64_t		 t = 0;

	if ((j = load(body, len, err, sizeof(err))) == NULL)
		return 0;
	w = json_object_get(j, "suggestedWindow");
	memset(&tm, 0, sizeof(tm));
	if (json_is_object(w) &&
	    get_str(w, "start", start, sizeof(start), 1, 0, err, sizeof(err)) == 0 &&
	    strptime(start, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
		t = (int64_t)timegm(&tm);
	json_decref(j);
	return t > 0 ? t : 0;
}
