/*
 * Fuzz target: the node configuration loader (cp_config_load_text) on arbitrary bytes.
 * Properties checked beyond "no crash, no leak, no undefined behaviour":
 *  - a loaded configuration is consistent: counts match their arrays, every required
 *    string is there, and every value is in the range the loader promises (port,
 *    page_size, max_content_length, API root names, collection ids, fingerprints,
 *    at least one credential per account, tls cert and key together), with no
 *    findings;
 *  - a rejected text leaves the struct zeroed and comes with at least one finding,
 *    every one an error with code "config" and a message;
 *  - loading the same bytes again gives the same result (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool nonempty(const char *s)
{
	return s && s[0];
}

static bool hex_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool root_name_ok(const char *s)
{
	if (!nonempty(s) || !strcmp(s, "taxii2"))
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static bool uuid_ok(const char *s)
{
	return s && strlen(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' &&
	       s[23] == '-' && hex_lower(s, 8) && hex_lower(s + 9, 4) && hex_lower(s + 14, 4) &&
	       hex_lower(s + 19, 4) && hex_lower(s + 24, 12);
}

static void check_names(char **names, size_t count)
{
	check(count == 0 || names != NULL);
	for (size_t i = 0; i < count; i++)
		check(nonempty(names[i]));
}

static void check_config(const struct cp_config *c)
{
	check(nonempty(c->listen_host) && c->listen_port <= 65535);
	check(nonempty(c->data_dir) && nonempty(c->title));
	check(!c->tls_cert == !c->tls_key);
	check(c->page_size >= 1 && c->page_size <= 10000);
	check(c->max_content_length >= 1024);
	check(c->api_root_count == 0 || c->api_roots != NULL);
	check(c->account_count == 0 || c->accounts != NULL);
	for (size_t r = 0; r < c->api_root_count; r++) {
		const struct cp_config_api_root *root = &c->api_roots[r];
		check(root_name_ok(root->name) && nonempty(root->title));
		for (size_t o = 0; o < r; o++)
			check(strcmp(c->api_roots[o].name, root->name) != 0);
		check(root->collection_count == 0 || root->collections != NULL);
		for (size_t i = 0; i < root->collection_count; i++) {
			const struct cp_config_collection *cc = &root->collections[i];
			check(uuid_ok(cc->id) && nonempty(cc->title));
			check(!cc->alias || (cc->alias[0] && strcmp(cc->alias, "*") != 0));
			for (size_t o = 0; o < i; o++)
				check(strcmp(root->collections[o].id, cc->id) != 0);
		}
	}
	for (size_t a = 0; a < c->account_count; a++) {
		const struct cp_config_account *acct = &c->accounts[a];
		const char *fp = acct->client_cert_fingerprint;
		check(nonempty(acct->name) && !strchr(acct->name, ':'));
		for (size_t o = 0; o < a; o++)
			check(strcmp(c->accounts[o].name, acct->name) != 0);
		check(acct->password_hash || fp);
		check(!acct->password_hash || !strncmp(acct->password_hash, "$argon2", 7));
		check(!fp ||
		      (strlen(fp) == 71 && !strncmp(fp, "sha256:", 7) && hex_lower(fp + 7, 64)));
		check_names(acct->read, acct->read_count);
		check_names(acct->write, acct->write_count);
	}
	check(c->peer_count == 0 || c->peers != NULL);
	for (size_t i = 0; i < c->peer_count; i++) {
		const struct cp_config_peer *pe = &c->peers[i];
		size_t n = pe->url ? strlen(pe->url) : 0;
		check(nonempty(pe->name) && nonempty(pe->cacert));
		check(n > 8 && !strncmp(pe->url, "https://", 8) && pe->url[n - 1] == '/');
		check(!pe->client_cert == !pe->client_key && !pe->user == !pe->password_file);
		for (size_t o = 0; o < i; o++)
			check(strcmp(c->peers[o].name, pe->name) != 0);
		for (size_t k = 0; k < pe->pull_count + pe->push_count; k++) {
			const struct cp_config_subscription *sub =
				k < pe->pull_count ? &pe->pull[k] : &pe->push[k - pe->pull_count];
			check(nonempty(sub->remote) && !strchr(sub->remote, '/'));
			check(nonempty(sub->local) && sub->interval >= 1 && sub->interval <= 86400);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cp_config zero;
	struct cp_config c, again;
	struct cp_diag d, d2;
	enum cp_err err, err2;

	cp_diag_init(&d);
	cp_diag_init(&d2);
	err = cp_config_load_text((const char *)data, size, "fuzz.yaml", &c, &d);
	if (err == CP_OK) {
		check(d.count == 0);
		check_config(&c);
	} else {
		check(memcmp(&c, &zero, sizeof(c)) == 0);
		check(d.count >= 1 && d.errors == d.count + d.dropped);
		for (size_t i = 0; i < d.count; i++)
			check(!strcmp(d.items[i].code, "config") &&
			      d.items[i].severity == CP_SEV_ERROR && nonempty(d.items[i].message));
	}

	err2 = cp_config_load_text((const char *)data, size, "fuzz.yaml", &again, &d2);
	check(err2 == err && d2.count == d.count);
	for (size_t i = 0; i < d.count; i++)
		check(d.items[i].line == d2.items[i].line &&
		      !strcmp(d.items[i].message, d2.items[i].message));
	if (err2 == CP_OK) {
		check(again.api_root_count == c.api_root_count &&
		      again.account_count == c.account_count && again.listen_port == c.listen_port);
		cp_config_release(&again);
	}

	cp_config_release(&c);
	cp_diag_release(&d);
	cp_diag_release(&d2);
	return 0;
}
