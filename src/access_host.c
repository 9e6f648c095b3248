/*
 * access_host.c: the client's address and name as .htaccess access
 * control reads them (Require ip/host/local, Allow/Deny from), the 2.2
 * forms of mod_access_compat (Order, Allow, Deny, Satisfy) and mod_ssl's
 * per-directory client-certificate checks (SSLVerifyClient, SSLRequire).
 *
 * The client's name itself (a double-reverse lookup in the hosts file,
 * never DNS) is access_dns.c's.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access_int.h"
#include "http.h"

void
az_from_free(struct az_from *f)
{
	struct az_from	*next;

	for (; f != NULL; f = next) {
		next = f->next;
		free(f->host);
		free(f->env);
		free(f);
	}
}

/* ------------------------------------------------------------ addresses */

static void
mask_bits(uint8_t mask[16], int bits)
{
	int	i;

	memset(mask, 0, 16);
	for (i = 0; i < 16 && bits > 0; i++, bits -= 8)
		mask[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
}

static void
v4_mapped(uint8_t out[16], const struct in_addr *in)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, in, 4);
}

/* "10.1" or "10.1.": the whole octets given. */
static int
parse_partial_v4(const char *s, struct az_net *n)
{
	int		 oct = 0, val = -1;
	uint8_t		 b[4] = { 0 };
	const char	*q;

	for (q = s; ; q++) {
		if (*q >= '0' && *q <= '9') {
			val = (val < 0 ? 0 : val) * 10 + (*q - '0');
			if (val > 255)
				return -1;
		} else if (*q == '.' || *q == '\0') {
			if (val < 0) {
				if (*q == '\0' && oct > 0 && q[-1] == '.')
					break;
				return -1;
			}
			if (oct == 4)
				return -1;
			b[oct++] = (uint8_t)val;
			val = -1;
			if (*q == '\0')
				break;
		} else
			return -1;
	}
	memset(n->addr, 0, 10);
	n->addr[10] = n->addr[11] = 0xff;
	memcpy(n->addr + 12, b, 4);
	mask_bits(n->mask, 96 + 8 * oct);
	return 0;
}

/* An address, a network (a/len, a/mask) or a partial IPv4 one. */
int
az_parse_net(const char *arg, struct az_net *n)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	struct in_addr	 a4, m4;
	struct in6_addr	 a6;
	long		 bits;
	int		 i, v6;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", arg);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		v4_mapped(n->addr, &a4);
		v6 = 0;
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		memcpy(n->addr, &a6, 16);
		v6 = 1;
	} else
		return slash == NULL ? parse_partial_v4(buf, n) : -1;

	if (slash == NULL)
		mask_bits(n->mask, 128);
	else if (!v6 && strchr(slash, '.') != NULL) {
		if (inet_pton(AF_INET, slash, &m4) != 1)
			return -1;
		memset(n->mask, 0xff, 12);
		memcpy(n->mask + 12, &m4, 4);
	} else {
		bits = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits < 0 || bits > (v6 ? 128 : 32))
			return -1;
		mask_bits(n->mask, (int)bits + (v6 ? 0 : 96));
	}
	for (i = 0; i < 16; i++)
		n->addr[i] &= n->mask[i];
	return 0;
}

int
az_remote_addr(const struct ht_req *r, uint8_t out[16])
{
	struct in_addr	a4;

	if (r->remote == NULL)
		return -1;
	if (inet_pton(AF_INET, r->remote, &a4) == 1) {
		v4_mapped(out, &a4);
		return 0;
	}
	return inet_pton(AF_INET6, r->remote, out) == 1 ? 0 : -1;
}

int
az_net_match(const struct az_net *n, const uint8_t a[16])
{
	int	i;

	for (i = 0; i < 16; i++)
		if ((a[i] & n->mask[i]) != n->addr[i])
			return 0;
	return 1;
}

int
access_ip_match(const char *addr, const char *net)
{
	struct az_net	n, one;
	uint8_t		a[16];

	if (az_parse_net(net, &n) == -1 || az_parse_net(addr, &one) == -1)
		return -1;
	memcpy(a, one.addr, 16);
	return az_net_match(&n, a);
}

int
az_is_loopback(const uint8_t a[16])
{
	static const uint8_t	one6[16] = { [15] = 1 };
	static const uint8_t	pre4[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, one6, 16) == 0 || (memcmp(a, pre4, 12) == 0 && a[12] == 127);
}

/* Apache's host match: the whole name, or a tail at a dot boundary. */
int
az_host_match(const char *want, const char *name)
{
	size_t	wl, nl;

	if (name == NULL)
		return 0;
	wl = strlen(want);
	nl = strlen(name);
	if (wl == 0 || wl > nl)
		return 0;
	if (strcasecmp(name + nl - wl, want) != 0)
		return 0;
	return wl == nl || want[0] == '.' || name[nl - wl - 1] == '.';
}

/* ------------------------------------------------------------ methods */

int
az_method_index(const char *name)
{
	static const char *const names[] = { "", "GET", "HEAD", "POST", "PUT", "DELETE",
	    "OPTIONS", "PATCH", "CONNECT", "TRACE" };
	size_t	i;

	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return 0;	/* any other: Apache registers them; they share a bit here */
}

/* HEAD is GET to Apache's method checks. */
int
az_req_method(const struct ht_req *r)
{
	int	m = r->method;

	if (m == HTTP_M_HEAD)
		m = HTTP_M_GET;
	return m >= 0 && m < NMETHODS ? m : 0;
}

/* The rest of a Require line as one string (expr, SSLRequire). */
int
az_join_args(char *out, size_t cap, int argc, char **argv)
{
	size_t	len = 0, k;
	int	i;

	out[0] = '\0';
	for (i = 0; i < argc; i++) {
		k = strlen(argv[i]);
		if (len + k + 2 > cap)
			return -1;
		if (i > 0)
			out[len++] = ' ';
		memcpy(out + len, argv[i], k + 1);
		len += k;
	}
	return 0;
}

/* ------------------------------------------------------------ Order, Allow, Deny, Satisfy */

int
access_order(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a;
	uint32_t		 lim = az_limited_of(p);
	int			 o, i;

	if (argc != 1)
		return ht_error(p, "Order takes one argument");
	if (strcasecmp(argv[0], "allow,deny") == 0)
		o = ORDER_ALLOW_DENY;
	else if (strcasecmp(argv[0], "deny,allow") == 0)
		o = ORDER_DENY_ALLOW;
	else if (strcasecmp(argv[0], "mutual-failure") == 0)
		o = ORDER_MUTUAL;
	else
		return ht_error(p, "unknown order '%s'", argv[0]);
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	a->has_compat = 1;
	for (i = 0; i < NMETHODS; i++)
		if (lim & (1u << i))
			a->order[i] = (uint8_t)o;
	return 0;
}

static int
parse_from(struct ht_parse *p, struct az_from *f, const char *w)
{
	if (strcasecmp(w, "all") == 0)
		f->all = 1;
	else if (strncasecmp(w, "env=", 4) == 0) {
		f->env_not = w[4] == '!';
		if ((f->env = strdup(w + 4 + f->env_not)) == NULL)
			return ht_error(p, "out of memory");
		if (f->env[0] == '\0')
			return ht_error(p, "env= takes a variable's name");
	} else if (az_parse_net(w, &f->net) == 0)
		f->is_net = 1;
	else if (strchr(w, '/') != NULL || strspn(w, "0123456789.") == strlen(w))
		return ht_error(p, "'%s' is not a valid address or network", w);
	else if ((f->host = strdup(w)) == NULL)
		return ht_error(p, "out of memory");
	return 0;
}

static int
allow_deny(struct ht_parse *p, struct ht_dir *d, int argc, char **argv, int deny)
{
	struct ht_access	*a;
	struct az_from		*f, **tail;
	int			 i;

	if (argc < 2 || strcasecmp(argv[0], "from") != 0)
		return ht_error(p, "%s must be followed by 'from'", deny ? "Deny" : "Allow");
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	a->has_compat = 1;
	tail = deny ? &a->denys : &a->allows;
	while (*tail != NULL)
		tail = &(*tail)->next;
	for (i = 1; i < argc; i++) {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			return ht_error(p, "out of memory");
		f->limited = az_limited_of(p);
		*tail = f;
		tail = &f->next;
		if (parse_from(p, f, argv[i]) == -1)
			return -1;
	}
	return 0;
}

int
access_allow(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	return allow_deny(p, d, argc, argv, 0);
}

int
access_deny(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	return allow_deny(p, d, argc, argv, 1);
}

int
access_satisfy(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a;
	uint32_t		 lim = az_limited_of(p);
	int			 s, i;

	if (argc != 1)
		return ht_error(p, "Satisfy takes one argument");
	if (strcasecmp(argv[0], "all") == 0)
		s = SAT_ALL;
	else if (strcasecmp(argv[0], "any") == 0)
		s = SAT_ANY;
	else
		return ht_error(p, "Satisfy either 'any' or 'all'.");
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	for (i = 0; i < NMETHODS; i++)
		if (lim & (1u << i))
			a->satisfy[i] = (uint8_t)s;
	return 0;
}

/* ------------------------------------------------------------ mod_ssl */

int
access_ssl_verify(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a;

	if (argc != 1)
		return ht_error(p, "SSLVerifyClient takes one argument");
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	if (strcasecmp(argv[0], "require") == 0)
		a->verify = 1;
	else if (strcasecmp(argv[0], "none") == 0 || strcasecmp(argv[0], "optional") == 0 ||
	    strcasecmp(argv[0], "optional_no_ca") == 0)
		a->verify = 0;
	else
		return ht_error(p, "SSLVerifyClient: invalid argument '%s'", argv[0]);
	return 0;
}

/*
 * SSLRequire's words into the expression syntax of Require expr (Apache
 * reads both with one parser; ours knows the ap_expr spelling): the bare
 * words eq, ne, lt ... and, or, not become ==, !=, -lt ... &&, ||, !;
 * quoted strings and %{VARS} are copied as they are.
 */
static int
ssl_words(char *out, size_t cap, const char *in)
{
	static const char *const map[][2] = { { "eq", "==" }, { "ne", "!=" }, { "and", "&&" },
	    { "or", "||" }, { "not", "!" }, { "lt", "-lt" }, { "le", "-le" }, { "gt", "-gt" },
	    { "ge", "-ge" } };
	size_t	len = 0, n, i;
	char	q;

	while (*in != '\0') {
		if (*in == '"' || *in == '\'') {
			q = *in;
			n = 1 + strcspn(in + 1, q == '"' ? "\"" : "'");
			n += in[n] == q;
		} else if (*in == '%' && in[1] == '{')
			n = strcspn(in, "}") + (in[strcspn(in, "}")] == '}');
		else if ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z')) {
			n = strspn(in, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
			for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
				if (strlen(map[i][0]) == n && strncasecmp(in, map[i][0], n) == 0)
					break;
			if (i < sizeof(map) / sizeof(map[0])) {
				if (len + strlen(map[i][1]) >= cap)
					return -1;
				memcpy(out + len, map[i][1], strlen(map[i][1]));
				len += strlen(map[i][1]);
				in += n;
				continue;
			}
		} else
			n = 1;
		if (len + n >= cap)
			return -1;
		memcpy(out + len, in, n);
		len += n;
		in += n;
	}
	out[len] = '\0';
	return 0;
}

int
access_ssl_require(struct ht_parse *p, struct ht_dir *d, int argc, char **argv)
{
	struct ht_access	*a;
	struct ht_expr		*e;
	char			 text[HT_MAX_LINE];

	if (p->raw != NULL ? ssl_words(text, sizeof(text), p->raw) == -1 :
	    az_join_args(text, sizeof(text), argc, argv) == -1)
		return ht_error(p, "SSLRequire: the expression is too long");
	if (text[strspn(text, " \t")] == '\0')
		return ht_error(p, "SSLRequire takes an expression");
	if ((a = az_part_p(p, d)) == NULL)
		return ht_error(p, "out of memory");
	if (a->nssl_req == (int)(sizeof(a->ssl_req) / sizeof(a->ssl_req[0])))
		return ht_error(p, "too many SSLRequire");
	if ((e = ht_expr_parse(p, text)) == NULL)
		return -1;
	a->ssl_req[a->nssl_req++] = e;
	return 0;
}

static int
from_match(const struct az_from *f, int m, struct ht_req *r)
{
	uint8_t		 a[16];
	const char	*name;

	for (; f != NULL; f = f->next) {
		if (!(f->limited & (1u << m)))
			continue;
		if (f->all)
			return 1;
		r->cacheable = 0;
		if (f->env != NULL && (ht_req_getenv(r, f->env) != NULL) != f->env_not)
			return 1;
		if (f->is_net && az_remote_addr(r, a) == 0 && az_net_match(&f->net, a))
			return 1;
		if (f->host != NULL && (name = az_remote_name(r)) != NULL && az_host_match(f->host, name))
			return 1;
	}
	return 0;
}

/* mod_access_compat's check_dir_access(): 0 or 403. */
int
az_compat_check(const struct ht_access *a, struct ht_req *r)
{
	int	m = az_req_method(r), allowed, denied;

	if (a == NULL || !a->has_compat)
		return 0;
	allowed = from_match(a->allows, m, r) || from_match(a->allows2, m, r);
	denied = from_match(a->denys, m, r) || from_match(a->denys2, m, r);
	switch (a->order[m]) {
	case ORDER_DENY_ALLOW:
		return !denied || allowed ? 0 : 403;
	default:	/* Allow,Deny and Mutual-failure agree once both are known */
		return allowed && !denied ? 0 : 403;
	}
}

/* mod_ssl: SSLVerifyClient require and SSLRequire, 0 or 403. */
int
az_ssl_check(const struct ht_access *a, struct ht_req *r)
{
	const char	*v;
	int		 i, g;

	if (a == NULL || (a->verify != 1 && a->nssl_req == 0))
		return 0;
	r->cacheable = 0;
	if (a->verify == 1) {
		v = r->https ? ht_req_ssl(r, "SSL_CLIENT_VERIFY") : NULL;
		if (v == NULL || strcmp(v, "SUCCESS") != 0) {
			access_log("SSLVerifyClient require: no verified client certificate");
			return 403;
		}
	}
	for (i = 0; i < a->nssl_req; i++)
		if ((g = ht_expr_eval(a->ssl_req[i], r)) != 1) {
			access_log("access to %s denied by SSLRequire", r->uri ? r->uri : "");
			return g < 0 ? 500 : 403;
		}
	return 0;
}

