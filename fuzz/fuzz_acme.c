/*
 * fuzz_acme.c: libFuzzer target for everything the ACME client reads of a
 * CA's answers (a CA may be hostile, or be impersonated on a path with a
 * bad bundle): the HTTP response head and body (acme_http.c), and the
 * directory, order, authorization, status, problem and renewal-info
 * documents (acme_proto.c).
 *
 * The first byte picks the reader, the rest is its input, in a heap copy
 * of exactly its size.  Checked: each answers 0 or -1 (the HTTP reader 1
 * too, only short of eof), and what it accepted keeps the promises its
 * callers rely on: bounded, NUL-terminated strings, https:// URLs, base64url
 * tokens, counts within their arrays; the same input gives the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"
#include "acme_int.h"
#include "fuzz.h"

static void
url_ok(const char *u, size_t sz, int may_be_empty)
{
	struct acme_url parsed;

	REQUIRE(memchr(u, '\0', sz) != NULL);
	if (u[0] == '\0') {
		REQUIRE(may_be_empty);
		return;
	}
	REQUIRE(strncmp(u, "https://", 8) == 0);
	REQUIRE(acme_url_parse(u, &parsed) == 0);
}

static void
http(const char *b, size_t len)
{
	struct acme_resp r, again;
	int		 rc, eof;

	for (eof = 0; eof <= 1; eof++) {
		rc = acme_http_parse(b, len, eof, &r);
		REQUIRE(rc == 0 || rc == -1 || (rc == 1 && !eof));
		if (rc == 0) {
			REQUIRE(r.status >= 100 && r.status <= 999);
			REQUIRE(r.body != NULL && r.body_len <= ACME_BODY_MAX);
			REQUIRE(r.body[r.body_len] == '\0');
			REQUIRE(memchr(r.nonce, '\0', sizeof(r.nonce)) != NULL);
			REQUIRE(memchr(r.location, '\0', sizeof(r.location)) != NULL);
			REQUIRE(memchr(r.link_up, '\0', sizeof(r.link_up)) != NULL);
			REQUIRE(r.retry_after <= 86400 * 7);
			REQUIRE(acme_http_parse(b, len, eof, &again) == 0);
			REQUIRE(again.body_len == r.body_len &&
			    memcmp(again.body, r.body, r.body_len) == 0);
			acme_resp_free(&again);
		} else
			REQUIRE(r.body == NULL);
		acme_resp_free(&r);
	}
}

static void
docs(uint8_t kind, const char *b, size_t len)
{
	char			 err[256], status[16];
	struct acme_dir		 d;
	struct acme_order	 o;
	struct acme_authz	 a;
	struct acme_problem	 p;
	int			 i;

	switch (kind % 6) {
	case 0:
		if (acme_parse_directory(b, len, &d, err, sizeof(err)) == 0) {
			url_ok(d.new_nonce, sizeof(d.new_nonce), 0);
			url_ok(d.new_account, sizeof(d.new_account), 0);
			url_ok(d.new_order, sizeof(d.new_order), 0);
			url_ok(d.renewal_info, sizeof(d.renewal_info), 1);
		}
		break;
	case 1:
		if (acme_parse_order(b, len, &o, err, sizeof(err)) == 0) {
			REQUIRE(o.nauthz >= 1 && o.nauthz <= ACME_AUTHZ_MAX);
			url_ok(o.finalize, sizeof(o.finalize), 0);
			url_ok(o.certificate, sizeof(o.certificate), 1);
			for (i = 0; i < o.nauthz; i++)
				url_ok(o.authz[i], ACME_URL_MAX, 0);
		}
		break;
	case 2:
		if (acme_parse_authz(b, len, &a, err, sizeof(err)) == 0) {
			REQUIRE(a.nchal >= 0 && a.nchal <= ACME_CHAL_MAX);
			REQUIRE(memchr(a.ident, '\0', sizeof(a.ident)) != NULL);
			for (i = 0; i < a.nchal; i++) {
				if (a.chal[i].type[0] == '\0')
					continue;
				url_ok(a.chal[i].url, sizeof(a.chal[i].url), 0);
				REQUIRE(a.chal[i].token[0] == '\0' ||
				    acme_token_ok(a.chal[i].token));
			}
		}
		break;
	case 3:
		if (acme_parse_status(b, len, status, sizeof(status), err, sizeof(err)) == 0)
			REQUIRE(memchr(status, '\0', sizeof(status)) != NULL);
		break;
	case 4:
		acme_parse_problem(b, len, &p);
		REQUIRE(memchr(p.type, '\0', sizeof(p.type)) != NULL);
		REQUIRE(memchr(p.detail, '\0', sizeof(p.detail)) != NULL);
		REQUIRE(str_is_printable(p.detail));
		break;
	case 5:
		REQUIRE(acme_parse_renewal_info(b, len) >= 0);
		acme_parse_authz_error(b, len, err, sizeof(err));
		REQUIRE(memchr(err, '\0', sizeof(err)) != NULL && str_is_printable(err));
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*copy;

	if (size < 1 || size > 4 * ACME_BODY_MAX)
		return 0;
	if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] < 0x40)
		http(copy, size - 1);
	else
		docs(data[0], copy, size - 1);
	free(copy);
	return 0;
}
