/*
 * test_acme.c: the ACME client's pure parts: URLs, the HTTP response
 * reader (lengths, chunks, caps, what is missing), the documents' bounds,
 * the names that become file names, tokens, and the certificates it makes
 * and checks.  The exchanges themselves are tested against pebble
 * (tests/integration/test_acme.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lockerd.h"
#include "acme_int.h"
#include "unit.h"

static void
test_urls(void)
{
	struct acme_url u;

	CHECK_INT(acme_url_parse("https://ca.example/dir", &u), 0);
	CHECK_STR(u.host, "ca.example");
	CHECK_STR(u.port, "443");
	CHECK_STR(u.path, "/dir");
	CHECK_INT(acme_url_parse("https://127.0.0.1:14000", &u), 0);
	CHECK_STR(u.port, "14000");
	CHECK_STR(u.path, "/");
	CHECK_INT(acme_url_parse("https://[::1]:8443/x", &u), 0);
	CHECK_STR(u.host, "::1");
	CHECK_INT(acme_url_parse("http://ca.example/dir", &u), -1);
	CHECK_INT(acme_url_parse("https:///dir", &u), -1);
	CHECK_INT(acme_url_parse("https://ca.example:0/", &u), -1);
	CHECK_INT(acme_url_parse("https://ca.example:70000/", &u), -1);
	CHECK_INT(acme_url_parse("https://ca.example/a b", &u), -1);
	CHECK_INT(acme_url_parse("https://user@ca.example/", &u), -1);
	CHECK_INT(acme_url_parse("https://ca.example/\r\nX: y", &u), -1);
}

static int
parse(const char *s, int eof, struct acme_resp *r)
{
	return acme_http_parse(s, strlen(s), eof, r);
}

static void
test_http(void)
{
	struct acme_resp	 r;
	char			*big;
	size_t			 n;

	CHECK_INT(parse("HTTP/1.1 201 Created\r\nReplay-Nonce: abc\r\nLocation: "
	    "https://ca/o/1\r\nContent-Length: 2\r\n\r\n{}", 0, &r), 0);
	CHECK_INT(r.status, 201);
	CHECK_STR(r.nonce, "abc");
	CHECK_STR(r.location, "https://ca/o/1");
	CHECK_STR(r.body, "{}");
	acme_resp_free(&r);
	/* Not all there yet: more, unless the peer closed. */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", 0, &r), 1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", 1, &r), -1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-", 0, &r), 1);
	/* Chunked, and its end. */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\n{\"\r\n3\r\na\":\r\n2\r\n1}\r\n0\r\n\r\n", 0, &r), 0);
	CHECK_STR(r.body, "{\"a\":1}");
	acme_resp_free(&r);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{", 0, &r), 1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, &r),
	    -1);
	/* No length: the body ends with the connection. */
	CHECK_INT(parse("HTTP/1.1 204 No Content\r\nReplay-Nonce: n\r\n\r\n", 0, &r), 1);
	CHECK_INT(parse("HTTP/1.1 204 No Content\r\nReplay-Nonce: n\r\n\r\n", 1, &r), 0);
	CHECK_INT(r.body_len, 0);
	acme_resp_free(&r);
	/* Caps: a body announced too big is refused before it comes. */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n", 0, &r), -1);
	n = ACME_BODY_MAX + 100;
	big = malloc(n + 64);
	snprintf(big, 64, "HTTP/1.1 200 OK\r\n\r\n");
	memset(big + strlen(big), 'x', n);
	CHECK_INT(acme_http_parse(big, strlen("HTTP/1.1 200 OK\r\n\r\n") + n, 1, &r), -1);
	free(big);
	/* Heads that are not HTTP. */
	CHECK_INT(parse("\r\n\r\n", 1, &r), -1);
	CHECK_INT(parse("HTTP/1.1 2000 OK\r\n\r\n", 1, &r), -1);
	CHECK_INT(parse("ICY 200 OK\r\n\r\n", 1, &r), -1);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", 1, &r), -1);
	/* A nonce longer than any CA's: refused, not cut. */
	big = malloc(600);
	memset(big, 'n', 599);
	big[599] = '\0';
	{
		char head[800];

		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nReplay-Nonce: %s\r\n\r\n", big);
		CHECK_INT(parse(head, 1, &r), -1);
	}
	free(big);
	/* Link rel="up", Retry-After. */
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nLink: <https://ca/i/0>;rel=\"up\"\r\n"
	    "Retry-After: 3\r\nContent-Length: 0\r\n\r\n", 0, &r), 0);
	CHECK_STR(r.link_up, "https://ca/i/0");
	CHECK_INT(r.retry_after, 3);
	acme_resp_free(&r);
}

/* A document and its length. */
#define DOC(s)	(s), strlen(s)

static void
test_documents(void)
{
	char			 err[200], many[4096];
	struct acme_order	 o;
	struct acme_authz	 a;
	struct acme_dir		 d;
	struct acme_problem	 p;
	int			 i;
	size_t			 off;

	CHECK_INT(acme_parse_directory(DOC("{\"newNonce\":\"https://c/n\",\"newAccount\":"
	    "\"https://c/a\",\"newOrder\":\"https://c/o\"}"), &d, err, sizeof(err)), 0);
	CHECK_STR(d.renewal_info, "");
	/* A URL elsewhere than https is not followed. */
	CHECK_INT(acme_parse_directory(DOC("{\"newNonce\":\"http://c/n\",\"newAccount\":"
	    "\"https://c/a\",\"newOrder\":\"https://c/o\"}"), &d, err, sizeof(err)), -1);
	CHECK_INT(acme_parse_directory(DOC("[1]"), &d, err, sizeof(err)), -1);
	CHECK_INT(acme_parse_directory("{\"newNonce\":\"https://c/n\",\"newNonce\":\"https://d\"}",
	    48, &d, err, sizeof(err)), -1);
	off = (size_t)snprintf(many, sizeof(many), "{\"status\":\"pending\",\"finalize\":"
	    "\"https://c/f\",\"authorizations\":[");
	for (i = 0; i < ACME_AUTHZ_MAX + 1; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%s\"https://c/z/%d\"",
		    i ? "," : "", i);
	off += (size_t)snprintf(many + off, sizeof(many) - off, "]}");
	CHECK_INT(acme_parse_order(many, off, &o, err, sizeof(err)), -1);
	CHECK_INT(acme_parse_authz(DOC("{\"status\":\"pending\",\"identifier\":{\"value\":\"a.b\"},"
	    "\"challenges\":[{\"type\":\"http-01\",\"url\":\"https://c/1\",\"status\":\"pending\","
	    "\"token\":\"../../etc/passwd\"}]}"), &a, err, sizeof(err)), -1);
	CHECK_INT(acme_parse_authz(DOC("{\"status\":\"pending\",\"identifier\":{\"value\":\"a.b\"},"
	    "\"wildcard\":true,\"challenges\":[{\"type\":\"dns-01\",\"url\":\"https://c/1\","
	    "\"status\":\"pending\",\"token\":\"Tok_en-1\"}]}"), &a, err, sizeof(err)), 0);
	CHECK_INT(a.wildcard, 1);
	CHECK_STR(a.chal[0].token, "Tok_en-1");
	acme_parse_problem(DOC("{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":"
	    "\"bad\\u0007\\nnonce\"}"), &p);
	CHECK_STR(p.type, "urn:ietf:params:acme:error:badNonce");
	CHECK(str_is_printable(p.detail));
	acme_parse_problem(DOC("garbage"), &p);
	CHECK_STR(p.detail, "(no problem document)");
}

static void
test_names(void)
{
	char out[300];

	CHECK_INT(acme_host_file("www.example.org", out, sizeof(out)), 0);
	CHECK_STR(out, "www.example.org");
	CHECK_INT(acme_host_file("*.example.org", out, sizeof(out)), 0);
	CHECK_STR(out, "_wildcard.example.org");
	CHECK_INT(acme_host_file("../etc/passwd", out, sizeof(out)), -1);
	CHECK_INT(acme_host_file("a/b.example", out, sizeof(out)), -1);
	CHECK_INT(acme_host_file("WWW.example.org", out, sizeof(out)), -1);
	CHECK_INT(acme_host_file(".example.org", out, sizeof(out)), -1);
	CHECK_INT(acme_host_file("*.*.example.org", out, sizeof(out)), -1);
	CHECK_INT(acme_host_file("", out, sizeof(out)), -1);
	CHECK_INT(acme_token_ok("abc_DEF-123"), 1);
	CHECK_INT(acme_token_ok(""), 0);
	CHECK_INT(acme_token_ok("a.b"), 0);
	CHECK_INT(acme_token_ok("a/b"), 0);
	CHECK_INT(acme_keyauth_ok("tok.thumb"), 1);
	CHECK_INT(acme_keyauth_ok("tok."), 0);
	CHECK_INT(acme_keyauth_ok("tok.th<umb"), 0);
	CHECK_INT(acme_keyauth_ok("tok"), 0);
}

/* TLS-ALPN-01's certificate: the name, and the acmeIdentifier, critical. */
static void
test_certificates(void)
{
	char			*cert, *key, err[200], issuer[128];
	BIO			*b;
	X509			*x;
	EVP_PKEY		*other = acme_key_new(ACME_KEY_ECDSA), *k;
	ASN1_OBJECT		*id = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	int			 i;
	int64_t			 nb, na;

	CHECK_INT(acme_alpn_cert("a.example", "tok.thumb", &cert, &key), 0);
	b = BIO_new_mem_buf(cert, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	CHECK(x != NULL);
	CHECK_INT(X509_check_host(x, "a.example", 0, 0, NULL), 1);
	CHECK((i = X509_get_ext_by_OBJ(x, id, -1)) >= 0);
	CHECK_INT(X509_EXTENSION_get_critical(X509_get_ext(x, i)), 1);
	CHECK_INT(ASN1_STRING_length(X509_EXTENSION_get_data(X509_get_ext(x, i))), 34);
	b = BIO_new_mem_buf(key, -1);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	/* The chain check: our key and the name, or nothing is written. */
	CHECK_INT(acme_chain_check(cert, strlen(cert), k, "a.example", &nb, &na, issuer,
	    sizeof(issuer), err, sizeof(err)), 0);
	CHECK(na > nb);
	CHECK_INT(acme_chain_check(cert, strlen(cert), other, "a.example", &nb, &na, issuer,
	    sizeof(issuer), err, sizeof(err)), -1);
	CHECK_INT(acme_chain_check(cert, strlen(cert), k, "b.example", &nb, &na, issuer,
	    sizeof(issuer), err, sizeof(err)), -1);
	CHECK_INT(acme_chain_check("junk", 4, k, "a.example", &nb, &na, issuer,
	    sizeof(issuer), err, sizeof(err)), -1);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	ASN1_OBJECT_free(id);
	free(cert);
	free(key);
}

int
main(void)
{
	test_urls();
	test_http();
	test_documents();
	test_names();
	test_certificates();
	UNIT_DONE();
}
