/*
 * httable.c: the .htaccess directives lockerd knows, and its modules'
 * hooks.  Each part adds its own rows here (and keeps its code in its own
 * file); a directive not in ht_directives[] is a 500 with "FILE:LINE:
 * unknown directive NAME" in the locker's error log, as in Apache.
 */
#include <stddef.h>

#include "access.h"
#include "htaccess.h"
#include "htcore.h"
#include "rw_ht.h"

/* mod_rewrite and mod_alias: anywhere a file or a <Files>/<If> section says them. */
#define RW_WHERE	(HT_FILE | HT_IN_FILES | HT_IN_IF)
#include "htdocs.h"
#include "htindex.h"
#include "htmime.h"
#include "htreqhdr.h"

const struct ht_directive ht_directives[] = {
	/* htcore.c: core, mod_dir, mod_mime, mod_env, mod_setenvif, mod_php */
	{ "Options",		"core",		HT_ANYWHERE,	dir_options },
	{ "DirectoryIndex",	"mod_dir",	HT_ANYWHERE,	dir_index },
	{ "AddType",		"mod_mime",	HT_ANYWHERE,	dir_addtype },
	{ "ForceType",		"core",		HT_ANYWHERE,	dir_forcetype },
	{ "DefaultType",	"core",		HT_ANYWHERE,	dir_defaulttype },
	{ "AddCharset",		"mod_mime",	HT_ANYWHERE,	dir_addcharset },
	{ "AddDefaultCharset",	"core",		HT_ANYWHERE,	dir_defaultcharset },
	{ "AddHandler",		"mod_mime",	HT_ANYWHERE,	dir_addhandler },
	{ "SetHandler",		"core",		HT_ANYWHERE,	dir_sethandler },
	{ "RemoveHandler",	"mod_mime",	HT_ANYWHERE,	dir_removehandler },
	{ "SetEnv",		"mod_env",	HT_ANYWHERE,	dir_setenv },
	{ "UnsetEnv",		"mod_env",	HT_ANYWHERE,	dir_unsetenv },
	{ "SetEnvIf",		"mod_setenvif",	HT_ANYWHERE,	dir_setenvif },
	{ "SetEnvIfNoCase",	"mod_setenvif",	HT_ANYWHERE,	dir_setenvifnocase },
	{ "php_value",		"mod_php",	HT_ANYWHERE,	dir_php_value },
	{ "php_flag",		"mod_php",	HT_ANYWHERE,	dir_php_flag },
	{ "php_admin_value",	"mod_php",	HT_ANYWHERE,	dir_php_admin_value },
	{ "php_admin_flag",	"mod_php",	HT_ANYWHERE,	dir_php_admin_flag },
	/* htmime.c: mod_mime's encodings, core's FileETag */
	{ "AddEncoding",	"mod_mime",	HT_ANYWHERE,	dir_addencoding },
	{ "RemoveEncoding",	"mod_mime",	HT_ANYWHERE,	dir_removeencoding },
	{ "FileETag",		"core",		HT_ANYWHERE,	dir_fileetag },
	/* htindex.c: mod_autoindex (what a listing shows; the cosmetic ones accepted) */
	{ "IndexOptions",	"mod_autoindex", HT_ANYWHERE,	dir_indexoptions },
	{ "IndexIgnore",	"mod_autoindex", HT_ANYWHERE,	dir_indexignore },
	{ "IndexIgnoreReset",	"mod_autoindex", HT_ANYWHERE,	dir_indexignorereset },
	{ "IndexOrderDefault",	"mod_autoindex", HT_ANYWHERE,	dir_indexorderdefault },
	{ "HeaderName",		"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "ReadmeName",		"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "IndexHeadInsert",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "IndexStyleSheet",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddDescription",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddIcon",		"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddIconByType",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddIconByEncoding",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddAlt",		"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddAltByType",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "AddAltByEncoding",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	{ "DefaultIcon",	"mod_autoindex", HT_ANYWHERE,	dir_index_cosmetic },
	/* htreqhdr.c: mod_headers' RequestHeader (unset Proxy only) */
	{ "RequestHeader",	"mod_headers",	HT_ANYWHERE,	dir_requestheader },
	/* rw_ht.c: mod_rewrite, mod_alias */
	{ "RewriteEngine", "mod_rewrite", RW_WHERE, rw_ht_engine },
	{ "RewriteBase", "mod_rewrite", RW_WHERE, rw_ht_base },
	{ "RewriteOptions", "mod_rewrite", RW_WHERE, rw_ht_options },
	{ "RewriteCond", "mod_rewrite", RW_WHERE, rw_ht_cond },
	{ "RewriteRule", "mod_rewrite", RW_WHERE, rw_ht_rule },
	{ "RewriteMap", "mod_rewrite", RW_WHERE, rw_ht_map },
	{ "Redirect", "mod_alias", RW_WHERE, rw_ht_redirect },
	{ "RedirectMatch", "mod_alias", RW_WHERE, rw_ht_redirect_match },
	{ "RedirectPermanent", "mod_alias", RW_WHERE, rw_ht_redirect_perm },
	{ "RedirectTemp", "mod_alias", RW_WHERE, rw_ht_redirect_temp },
	/* access.c: mod_authz_core, mod_authz_host, mod_access_compat, mod_ssl */
	{ "Require",		"mod_authz_core",	HT_ANYWHERE | HT_RAW, access_require },
	{ "<RequireAll",	"mod_authz_core",	HT_ANYWHERE,	access_open_all },
	{ "</RequireAll",	"mod_authz_core",	HT_ANYWHERE,	access_close },
	{ "<RequireAny",	"mod_authz_core",	HT_ANYWHERE,	access_open_any },
	{ "</RequireAny",	"mod_authz_core",	HT_ANYWHERE,	access_close },
	{ "<RequireNone",	"mod_authz_core",	HT_ANYWHERE,	access_open_none },
	{ "</RequireNone",	"mod_authz_core",	HT_ANYWHERE,	access_close },
	{ "AuthMerging",	"mod_authz_core",	HT_ANYWHERE,	access_merging },
	{ "AuthzSendForbiddenOnFailure", "mod_authz_core", HT_ANYWHERE, access_forbidden_on_fail },
	{ "Order",		"mod_access_compat",	HT_ANYWHERE,	access_order },
	{ "Allow",		"mod_access_compat",	HT_ANYWHERE,	access_allow },
	{ "Deny",		"mod_access_compat",	HT_ANYWHERE,	access_deny },
	{ "Satisfy",		"core",			HT_ANYWHERE,	access_satisfy },
	{ "SSLVerifyClient",	"mod_ssl",		HT_FILE | HT_IN_FILES | HT_IN_IF, access_ssl_verify },
	{ "SSLRequire",		"mod_ssl",		HT_FILE | HT_IN_FILES | HT_IN_IF | HT_RAW,
	  access_ssl_require },
	/* authbasic.c: mod_auth_basic, mod_authn_file, mod_authz_groupfile */
	{ "AuthType",		"core",			HT_ANYWHERE,	auth_type },
	{ "AuthName",		"core",			HT_ANYWHERE,	auth_name },
	{ "AuthUserFile",	"mod_authn_file",	HT_ANYWHERE,	auth_user_file },
	{ "AuthGroupFile",	"mod_authz_groupfile",	HT_ANYWHERE,	auth_group_file },
	{ "AuthBasicProvider",	"mod_auth_basic",	HT_ANYWHERE,	auth_provider },
	/* htdocs.c: mod_headers, mod_expires, core's ErrorDocument */
	{ "Header",		"mod_headers",		HT_ANYWHERE,	htdocs_header },
	{ "ExpiresActive",	"mod_expires",		HT_ANYWHERE,	htdocs_expires_active },
	{ "ExpiresDefault",	"mod_expires",		HT_ANYWHERE,	htdocs_expires_default },
	{ "ExpiresByType",	"mod_expires",		HT_ANYWHERE,	htdocs_expires_by_type },
	{ "ErrorDocument",	"core",			HT_ANYWHERE,	htdocs_error_document },
	{ NULL, NULL, 0, NULL }
};

const struct ht_module ht_modules[] = {
	/* htcore.c: the environment first, as Apache's header parser sets it
	 * before access is checked; types and handlers with the documents. */
	{ "env", offsetof(struct ht_dir, env), htenv_merge, ht_merged_free, htenv_free,
	  HT_PH_ACCESS, htenv_run },
	{ "core", offsetof(struct ht_dir, core), htcore_merge, ht_merged_free, htcore_free,
	  HT_PH_DOCS, htcore_run },
	/* after core: its charsets and types mark the name's extensions too */
	{ "mime", offsetof(struct ht_dir, mime), htmime_merge, htmime_merged_free, htmime_free,
	  HT_PH_DOCS, htmime_run },
	{ "index", offsetof(struct ht_dir, index), htindex_merge, htindex_merged_free,
	  htindex_free, HT_PH_DOCS, htindex_run },
	/* Apache's order in the fixups: mod_rewrite first, then mod_alias. */
	{ "rewrite", offsetof(struct ht_dir, rw), rw_ht_merge_rewrite, rw_ht_free_rewrite,
	  rw_ht_free_rewrite, HT_PH_FIXUP, rw_ht_rewrite },
	{ "alias", offsetof(struct ht_dir, alias), rw_ht_merge_alias, rw_ht_free_alias,
	  rw_ht_free_alias, HT_PH_FIXUP, rw_ht_alias },
	/* authbasic.c first: access_run() reads its merged part. */
	{ "auth", offsetof(struct ht_dir, auth), auth_merge, auth_merged_free, auth_free,
	  HT_PH_NONE, NULL },
	{ "access", offsetof(struct ht_dir, access), access_merge, access_merged_free, access_free,
	  HT_PH_ACCESS, access_run },
	/* after the types (Expires reads the content type) */
	{ "docs", offsetof(struct ht_dir, docs), htdocs_merge, htdocs_merged_free, htdocs_free,
	  HT_PH_DOCS, htdocs_run },
	{ NULL, 0, NULL, NULL, NULL, HT_PH_NONE, NULL }
};
