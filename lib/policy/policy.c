/*
 * The egress gate: sharing agreements and cp_policy_decide().
 *
 * The gate runs on every object version of every page that leaves the node, so a
 * decision allocates nothing and reads the object once: the partner is found through
 * an open-addressing hash table, lists (collections, types) are sorted arrays searched
 * by bisection, and the markings are read in one pass (pap.c) that takes TLP from the
 * stix module's table of TLP ids and PAP from this module's.
 */
#include "internal.h"
#include "common.h"

/* A sorted list of distinct strings, owned. */
struct strset {
	char **items;
	size_t count;
	bool has_all; /* contains "*" */
};

struct agreement {
	char *partner;
	char *community; /* NULL when none (an empty one is stored as NULL) */
	uint32_t hash;
	enum cp_tlp tlp_ceiling;
	enum cp_pap pap_ceiling;
	enum cp_tlp default_tlp; /* resolved: never CP_TLP_NONE */
	struct strset read, red, types_allowed, types_excluded;
	bool third_party, sightings, consultations, no_redistribution;
};

struct cp_policy {
	struct agreement *agr;
	size_t count;
	uint32_t *slots; /* index + 1 into agr; 0 = empty */
	size_t mask;     /* slot count - 1 (a power of two) */
};

/* ------------------------------------------------------------- helpers */

/* FNV-1a: partner names are short, and a decision hashes one or two of them */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strset_has(const struct strset *s, const char *v)
{
	size_t lo = 0, hi = s->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v, s->items[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static void strset_release(struct strset *s)
{
	for (size_t i = 0; i < s->count; i++)
		cp_free(s->items[i]);
	cp_free(s->items);
	s->items = NULL;
	s->count = 0;
}

/* Copy v[0..n) into s, sorted and without duplicates. */
static enum cp_err strset_copy(struct strset *s, const char *const *v, size_t n)
{
	size_t out = 0;

	s->items = NULL;
	s->count = 0;
	s->has_all = false;
	if (!n)
		return CP_OK;
	s->items = cp_calloc(n, sizeof(*s->items));
	if (!s->items)
		return CP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->items[i] = cp_strdup(v[i]);
		if (!s->items[i]) {
			s->count = i;
			strset_release(s);
			return CP_ENOMEM;
		}
		if (strcmp(v[i], "*") == 0)
			s->has_all = true;
	}
	qsort(s->items, n, sizeof(*s->items), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (out && strcmp(s->items[out - 1], s->items[i]) == 0)
			cp_free(s->items[i]);
		else
			s->items[out++] = s->items[i];
	}
	s->count = out;
	return CP_OK;
}

static const struct agreement *find(const struct cp_policy *p, const char *partner)
{
	uint32_t h;

	if (!p || !partner)
		return NULL;
	h = hash_str(partner);
	for (size_t i = h & p->mask;; i = (i + 1) & p->mask) {
		uint32_t slot = p->slots[i];
		const struct agreement *a;

		if (!slot)
			return NULL;
		a = &p->agr[slot - 1];
		if (a->hash == h && strcmp(a->partner, partner) == 0)
			return a;
	}
}

/* ------------------------------------------------------------ building */

static void agreement_release(struct agreement *a)
{
	cp_free(a->partner);
	cp_free(a->community);
	strset_release(&a->read);
	strset_release(&a->red);
	strset_release(&a->types_allowed);
	strset_release(&a->types_excluded);
}

void cp_policy_free(struct cp_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		agreement_release(&p->agr[i]);
	cp_free(p->agr);
	cp_free(p->slots);
	cp_free(p);
}

static void finding(struct cp_diag *diag, size_t *errors, enum cp_severity sev, const char *code,
                    size_t index, const char *field, const char *fmt, ...) CP_PRINTF(7, 8);

static void finding(struct cp_diag *diag, size_t *errors, enum cp_severity sev, const char *code,
                    size_t index, const char *field, const char *fmt, ...)
{
	char pointer[64];
	va_list ap;

	if (sev == CP_SEV_ERROR)
		(*errors)++;
	if (!diag)
		return;
	snprintf(pointer, sizeof(pointer), "/%zu/%s", index, field);
	va_start(ap, fmt);
	cp_diag_addv(diag, sev, code, pointer, fmt, ap);
	va_end(ap);
}

static void check_list(const char *const *v, size_t n, size_t index, const char *field,
                       struct cp_diag *diag, size_t *errors)
{
	if (n && !v) {
		finding(diag, errors, CP_SEV_ERROR, "null-entry", index, field,
		        "%s has %zu entries but no array", field, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			finding(diag, errors, CP_SEV_ERROR, "null-entry", index, field,
			        "%s entry %zu is NULL", field, i);
		else if (!v[i][0])
			finding(diag, errors, CP_SEV_ERROR, "empty-string", index, field,
			        "%s entry %zu is empty", field, i);
	}
}

static bool list_has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Every rule about one agreement on its own; the lists are known to hold strings
 * only when this reported no error. */
static void check_agreement(const struct cp_policy_agreement *a, size_t i, struct cp_diag *diag,
                            size_t *errors)
{
	size_t before = *errors;

	if (!a->partner || !a->partner[0])
		finding(diag, errors, CP_SEV_ERROR, "partner-name", i, "partner",
		        "agreement %zu names no partner", i);
	if ((int)a->tlp_ceiling < CP_TLP_NONE || (int)a->tlp_ceiling > CP_TLP_RED)
		finding(diag, errors, CP_SEV_ERROR, "out-of-range", i, "tlp_ceiling",
		        "tlp_ceiling %d is not a TLP level", (int)a->tlp_ceiling);
	if ((int)a->default_tlp < CP_TLP_NONE || (int)a->default_tlp > CP_TLP_RED)
		finding(diag, errors, CP_SEV_ERROR, "out-of-range", i, "default_tlp",
		        "default_tlp %d is not a TLP level", (int)a->default_tlp);
	if ((int)a->pap_ceiling < CP_PAP_NONE || (int)a->pap_ceiling > CP_PAP_RED)
		finding(diag, errors, CP_SEV_ERROR, "out-of-range", i, "pap_ceiling",
		        "pap_ceiling %d is not a PAP level", (int)a->pap_ceiling);
	check_list(a->read, a->read_count, i, "read", diag, errors);
	check_list(a->red, a->red_count, i, "red", diag, errors);
	check_list(a->types_allowed, a->types_allowed_count, i, "types_allowed", diag, errors);
	check_list(a->types_excluded, a->types_excluded_count, i, "types_excluded", diag, errors);
	if (*errors != before)
		return;

	/* a wildcard RED grant would make every new collection a RED channel */
	if (list_has(a->red, a->red_count, "*"))
		finding(diag, errors, CP_SEV_ERROR, "red-wildcard", i, "red",
		        "partner '%s': TLP:RED recipients are named per collection; \"*\" is "
		        "not allowed in the red list",
		        a->partner);
	if (a->red_count && a->tlp_ceiling != CP_TLP_RED)
		finding(diag, errors, CP_SEV_WARNING, "red-without-red-ceiling", i, "red",
		        "partner '%s' is named as a TLP:RED recipient, but its TLP ceiling is "
		        "%s, so no TLP:RED object reaches it",
		        a->partner, a->tlp_ceiling ? cp_stix_tlp_name(a->tlp_ceiling) : "not set");
	for (size_t k = 0; k < a->red_count; k++)
		if (!list_has(a->read, a->read_count, "*") &&
		    !list_has(a->read, a->read_count, a->red[k]))
			finding(diag, errors, CP_SEV_WARNING, "red-not-readable", i, "red",
			        "partner '%s' is a TLP:RED recipient for collection '%s', "
			        "which it may not read",
			        a->partner, a->red[k]);
}

static enum cp_err agreement_copy(struct agreement *d, const struct cp_policy_agreement *s)
{
	enum cp_err err;

	d->partner = cp_strdup(s->partner);
	if (!d->partner)
		return CP_ENOMEM;
	d->hash = hash_str(d->partner);
	if (s->community && s->community[0]) {
		d->community = cp_strdup(s->community);
		if (!d->community)
			return CP_ENOMEM;
	}
	d->tlp_ceiling = s->tlp_ceiling;
	d->pap_ceiling = s->pap_ceiling;
	d->default_tlp = s->default_tlp ? s->default_tlp : CP_TLP_AMBER;
	d->third_party = s->third_party;
	d->sightings = s->sightings;
	d->consultations = s->consultations;
	d->no_redistribution = s->no_redistribution;
	err = strset_copy(&d->read, s->read, s->read_count);
	if (!err)
		err = strset_copy(&d->red, s->red, s->red_count);
	if (!err)
		err = strset_copy(&d->types_allowed, s->types_allowed, s->types_allowed_count);
	if (!err)
		err = strset_copy(&d->types_excluded, s->types_excluded, s->types_excluded_count);
	return err;
}

enum cp_err cp_policy_new(const struct cp_policy_agreement *agreements, size_t count,
                          struct cp_policy **out, struct cp_diag *diag)
{
	struct cp_policy *p = NULL;
	size_t errors = 0, nslots = 16;
	enum cp_err err = CP_OK;

	if (!out || (count && !agreements))
		return CP_EINVAL;
	for (size_t i = 0; i < count; i++)
		check_agreement(&agreements[i], i, diag, &errors);
	if (errors) {
		err = CP_EINVAL;
		goto out;
	}
	while (nslots < 2 * count) {
		if (nslots > SIZE_MAX / 4 || nslots >= UINT32_MAX / 2) {
			err = CP_ETOOBIG;
			goto out;
		}
		nslots *= 2;
	}
	p = cp_calloc(1, sizeof(*p));
	if (!p) {
		err = CP_ENOMEM;
		goto out;
	}
	p->slots = cp_calloc(nslots, sizeof(*p->slots));
	p->agr = cp_calloc(count ? count : 1, sizeof(*p->agr));
	if (!p->slots || !p->agr) {
		err = CP_ENOMEM;
		goto out;
	}
	p->mask = nslots - 1;
	for (size_t i = 0; i < count; i++) {
		struct agreement *a = &p->agr[p->count];
		const struct agreement *dup;

		/* count it first, so that a half-copied agreement is released too */
		p->count++;
		err = agreement_copy(a, &agreements[i]);
		if (err)
			goto out;
		dup = find(p, a->partner);
		if (dup) {
			finding(diag, &errors, CP_SEV_ERROR, "partner-duplicate", i, "partner",
			        "partner '%s' already has an agreement (/%zu)", a->partner,
			        (size_t)(dup - p->agr));
			continue;
		}
		for (size_t k = a->hash & p->mask;; k = (k + 1) & p->mask) {
			if (!p->slots[k]) {
				p->slots[k] = (uint32_t)p->count;
				break;
			}
		}
	}
	if (errors)
		err = CP_EINVAL;
out:
	if (err) {
		cp_policy_free(p);
		return err;
	}
	*out = p;
	return CP_OK;
}

/* ------------------------------------------------------------ deciding */

static const char *const reason_names[] = {
        [CP_POLICY_OK] = "ok",
        [CP_POLICY_NO_AGREEMENT] = "no-agreement",
        [CP_POLICY_COLLECTION] = "collection",
        [CP_POLICY_TYPE] = "type",
        [CP_POLICY_SIGHTING] = "sighting",
        [CP_POLICY_CONSULTATION] = "consultation",
        [CP_POLICY_TLP_CEILING] = "tlp-ceiling",
        [CP_POLICY_TLP_RED] = "tlp-red",
        [CP_POLICY_TLP_STRICT] = "tlp-strict",
        [CP_POLICY_PAP_CEILING] = "pap-ceiling",
        [CP_POLICY_THIRD_PARTY] = "third-party",
        [CP_POLICY_THIRD_PARTY_TLP] = "third-party-tlp",
        [CP_POLICY_COMMUNITY] = "community",
        [CP_POLICY_NO_REDISTRIBUTION] = "no-redistribution",
        [CP_POLICY_BAD_MARKING] = "bad-marking",
        [CP_POLICY_UNKNOWN_ORIGIN] = "unknown-origin",
};

const char *cp_policy_reason_name(enum cp_policy_reason_code code)
{
	if ((size_t)code >= CP_ARRAY_LEN(reason_names) || !reason_names[code])
		return "unknown";
	return reason_names[code];
}

static const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (len > cap - 1 - *n)
		len = cap - 1 - *n;
	memcpy(out + *n, s, len);
	*n += len;
}

/*
 * The part of printf that the reason texts use (%s, %.<n>s, %zu), truncating at cap.
 * An audited egress path writes a text for every object, and vsnprintf took as long
 * as the decision itself (bench/policy.c); the format attribute on verdict() still
 * has gcc check every call against its arguments.
 */
static void format_text(char *out, size_t cap, const char *fmt, va_list ap)
{
	size_t n = 0;

	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		size_t max = SIZE_MAX;

		if (!pct) {
			put(out, cap, &n, fmt, strlen(fmt));
			break;
		}
		put(out, cap, &n, fmt, (size_t)(pct - fmt));
		fmt = pct + 1;
		if (fmt[0] == 'z' && fmt[1] == 'u') {
			char digits[24];
			size_t v = va_arg(ap, size_t), k = sizeof(digits);

			do {
				digits[--k] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			put(out, cap, &n, digits + k, sizeof(digits) - k);
			fmt += 2;
			continue;
		}
		if (*fmt == '.') {
			for (max = 0, fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				max = max * 10 + (size_t)(*fmt - '0');
		}
		if (*fmt != 's')
			break; /* not used by any text; the attribute would have said */
		{
			const char *s = str_or(va_arg(ap, const char *), "(null)");

			put(out, cap, &n, s, strnlen(s, max));
		}
		fmt++;
	}
	out[n] = '\0';
}

static enum cp_policy_decision verdict(struct cp_policy_reason *why,
                                       enum cp_policy_reason_code code, const char *fmt, ...)
        CP_PRINTF(3, 4);

static enum cp_policy_decision verdict(struct cp_policy_reason *why,
                                       enum cp_policy_reason_code code, const char *fmt, ...)
{
	va_list ap;

	/* the text costs more than the decision; callers that only filter skip it */
	if (why) {
		why->code = code;
		va_start(ap, fmt);
		format_text(why->text, sizeof(why->text), fmt, ap);
		va_end(ap);
	}
	return code == CP_POLICY_OK ? CP_POLICY_RELEASE : CP_POLICY_WITHHOLD;
}

static const char *tlp_text(enum cp_tlp t)
{
	const char *s = cp_stix_tlp_name(t);

	return s ? s : "no TLP";
}

/* a ceiling that was never set releases only what TLP:CLEAR allows to anyone */
static enum cp_tlp ceiling_of(const struct agreement *a)
{
	return a->tlp_ceiling ? a->tlp_ceiling : CP_TLP_CLEAR;
}

static bool same_community(const struct agreement *a, const struct agreement *b)
{
	return a->community && b->community && strcmp(a->community, b->community) == 0;
}

void cp_policy_facts_of(const json_t *obj, struct cp_policy_facts *out)
{
	struct cp__policy_markings m;

	memset(out, 0, sizeof(*out));
	if (!obj)
		return;
	out->id = json_string_value(json_object_get(obj, "id"));
	out->type = json_string_value(json_object_get(obj, "type"));
	out->consultation = json_object_get(obj, CP_POLICY_CONSULTATION_PROP) != NULL;
	cp__policy_scan_markings(obj, &m);
	out->bad_marking = m.bad != NULL;
	out->tlp = m.tlp;
	out->pap = m.pap;
}

enum cp_policy_decision cp_policy_decide(const struct cp_policy *p, const char *partner,
                                         const struct cp_policy_object *o,
                                         struct cp_policy_reason *why)
{
	const json_t *obj = o ? o->obj : NULL;
	const struct cp_policy_facts *facts = o ? o->facts : NULL;
	/* only the text needs the id, and a lookup costs as much as a rule */
	const char *id =
	        !why ? NULL
	        : facts ? str_or(facts->id, "(without id)")
	                : str_or(json_string_value(json_object_get(obj, "id")), "(without id)");
	const char *coll = o ? o->collection_id : NULL;
	const char *origin = o ? o->origin : NULL;
	const struct agreement *a, *src = NULL;
	struct cp__policy_markings m;
	const char *type, *marked;
	enum cp_tlp tlp;

	a = find(p, partner);
	if (!a)
		return verdict(why, CP_POLICY_NO_AGREEMENT,
		               "no agreement with partner '%s': object %s is withheld (default "
		               "deny)",
		               str_or(partner, "(none)"), id);
	if (!coll || !(a->read.has_all || strset_has(&a->read, coll)))
		return verdict(why, CP_POLICY_COLLECTION,
		               "object %s is in collection '%s', which partner '%s' may not "
		               "read",
		               id, str_or(coll, "(none)"), a->partner);

	type = facts ? facts->type : json_string_value(json_object_get(obj, "type"));
	if (!type)
		return verdict(why, CP_POLICY_TYPE,
		               "object %s has no type; partner '%s' receives STIX objects only", id,
		               a->partner);
	if (a->types_allowed.count && !strset_has(&a->types_allowed, type))
		return verdict(why, CP_POLICY_TYPE,
		               "object %s is of type '%s', which is not among the types partner "
		               "'%s' may receive",
		               id, type, a->partner);
	if (strset_has(&a->types_excluded, type))
		return verdict(why, CP_POLICY_TYPE,
		               "object %s is of type '%s', which the agreement with partner '%s' "
		               "excludes",
		               id, type, a->partner);
	if (!a->sightings && strcmp(type, "sighting") == 0)
		return verdict(why, CP_POLICY_SIGHTING,
		               "object %s is a sighting; the agreement with partner '%s' does not "
		               "share sightings",
		               id, a->partner);
	if (!a->consultations &&
	    (facts ? facts->consultation : json_object_get(obj, CP_POLICY_CONSULTATION_PROP) != NULL))
		return verdict(why, CP_POLICY_CONSULTATION,
		               "object %s is a consultation object (" CP_POLICY_CONSULTATION_PROP
		               "); the agreement with partner '%s' does not share consultations",
		               id, a->partner);

	/* markings bind those who received the object from its source, not the source */
	if (origin && strcmp(origin, a->partner) == 0)
		return verdict(why, CP_POLICY_OK,
		               "object %s goes back to partner '%s', which it came from", id,
		               a->partner);

	if (facts) {
		memset(&m, 0, sizeof(m));
		m.tlp = facts->tlp;
		m.pap = facts->pap;
		m.bad = facts->bad_marking ? "cannot be read" : NULL;
		m.bad_prop = "its markings";
		m.bad_index = SIZE_MAX;
	} else {
		cp__policy_scan_markings(obj, &m);
	}
	if (m.bad) {
		if (m.bad_index == SIZE_MAX)
			return verdict(why, CP_POLICY_BAD_MARKING,
			               "object %s: %s %s; withheld from partner '%s' (markings "
			               "the gate cannot read)",
			               id, m.bad_prop, m.bad, a->partner);
		return verdict(why, CP_POLICY_BAD_MARKING,
		               "object %s: %s[%zu]%s%.64s%s %s; withheld from partner '%s' "
		               "(markings the gate cannot read)",
		               id, m.bad_prop, m.bad_index, m.bad_value ? " '" : "",
		               str_or(m.bad_value, ""), m.bad_value ? "'" : "", m.bad, a->partner);
	}

	if (origin) {
		if (!a->third_party)
			return verdict(why, CP_POLICY_THIRD_PARTY,
			               "object %s came from partner '%s'; the agreement with "
			               "partner '%s' takes no third-party objects",
			               id, origin, a->partner);
		src = find(p, origin);
		if (!src)
			return verdict(why, CP_POLICY_UNKNOWN_ORIGIN,
			               "object %s came from '%s', which has no agreement, so its "
			               "redistribution terms are unknown; not passed to partner "
			               "'%s'",
			               id, origin, a->partner);
		if (src->no_redistribution)
			return verdict(why, CP_POLICY_NO_REDISTRIBUTION,
			               "object %s came from partner '%s', whose agreement forbids "
			               "redistribution; not passed to partner '%s'",
			               id, origin, a->partner);
	}

	tlp = m.tlp;
	marked = "";
	if (tlp == CP_TLP_NONE) {
		/* the source's terms bind a third-party object as much as ours do */
		tlp = a->default_tlp;
		if (src && src->default_tlp > tlp)
			tlp = src->default_tlp;
		marked = src ? " (unmarked: the stricter default of the two agreements)"
		             : " (unmarked: the agreement's default)";
	}

	if (src) {
		if (tlp >= CP_TLP_AMBER)
			return verdict(why, CP_POLICY_THIRD_PARTY_TLP,
			               "object %s came from partner '%s' and is %s%s; third-party "
			               "objects go on only as TLP:CLEAR or TLP:GREEN, so not to "
			               "partner '%s'",
			               id, origin, tlp_text(tlp), marked, a->partner);
		if (tlp == CP_TLP_GREEN && !same_community(a, src))
			return verdict(why, CP_POLICY_COMMUNITY,
			               "object %s came from partner '%s' (%s%s%s) and is "
			               "TLP:GREEN%s; partner '%s' (%s%s%s) is not in the same "
			               "community",
			               id, origin, src->community ? "community '" : "no community",
			               str_or(src->community, ""), src->community ? "'" : "",
			               marked, a->partner,
			               a->community ? "community '" : "no community",
			               str_or(a->community, ""), a->community ? "'" : "");
	}

	/* RED is not the top of a scale but a list of named recipients: both must say so */
	if (tlp == CP_TLP_RED && !(a->tlp_ceiling == CP_TLP_RED && strset_has(&a->red, coll))) {
		if (strset_has(&a->red, coll))
			return verdict(why, CP_POLICY_TLP_RED,
			               "object %s is TLP:RED%s; partner '%s' is named for TLP:RED "
			               "in collection '%s' but its ceiling is %s",
			               id, marked, a->partner, coll, tlp_text(ceiling_of(a)));
		return verdict(why, CP_POLICY_TLP_RED,
		               "object %s is TLP:RED%s; partner '%s' is not a named TLP:RED "
		               "recipient for collection '%s'",
		               id, marked, a->partner, coll);
	}
	if (tlp == CP_TLP_AMBER_STRICT && a->tlp_ceiling == CP_TLP_AMBER)
		return verdict(why, CP_POLICY_TLP_STRICT,
		               "object %s is TLP:AMBER+STRICT%s; partner '%s' has an AMBER "
		               "ceiling, which does not include AMBER+STRICT",
		               id, marked, a->partner);
	if (tlp > ceiling_of(a))
		return verdict(why, CP_POLICY_TLP_CEILING,
		               "object %s is %s%s; partner '%s' has a %s ceiling%s", id,
		               tlp_text(tlp), marked, a->partner, tlp_text(ceiling_of(a)),
		               a->tlp_ceiling ? "" : " (none set)");
	if (a->pap_ceiling && m.pap > a->pap_ceiling)
		return verdict(why, CP_POLICY_PAP_CEILING,
		               "object %s is %s; partner '%s' has a %s ceiling", id,
		               cp_policy_pap_name(m.pap), a->partner,
		               cp_policy_pap_name(a->pap_ceiling));
	if (src)
		return verdict(why, CP_POLICY_OK,
		               "object %s from partner '%s' (%s%s) may go to partner '%s'", id,
		               origin, tlp_text(tlp), marked, a->partner);
	return verdict(why, CP_POLICY_OK, "object %s (%s%s) may go to partner '%s' (ceiling %s%s)",
	               id, tlp_text(tlp), marked, a->partner, tlp_text(ceiling_of(a)),
	               tlp == CP_TLP_RED ? ", named TLP:RED recipient" : "");
}
