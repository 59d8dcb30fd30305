/*
 * cyberpact/policy.h - partners, sharing agreements and THE egress gate.
 *
 * The rule of the whole node: an object version leaves the node (TAXII responses,
 * sync push, exports, streams, logs of content) only if cp_policy_decide() says
 * CP_POLICY_RELEASE for that partner and that version. No other code decides. Default
 * deny: anything the agreement does not allow is withheld, and every decision comes
 * with a reason that the audit trail records.
 *
 * TLP 2.0 binds the recipient, so the gate knows provenance:
 *  - what this node originated (origin NULL) may go to partner P up to the TLP ceiling of
 *    P's agreement; TLP:RED only for collections where the agreement names P as a RED
 *    recipient;
 *  - what this node received from partner Q may go to a third party P only if it is
 *    TLP:CLEAR, or TLP:GREEN and P is in the same community as the agreement with Q
 *    says; never AMBER, AMBER+STRICT or RED; never if Q's agreement forbids
 *    redistribution; never if P's agreement does not take third-party objects. An object
 *    goes back to the partner it came from only as what it is (its own data).
 *  - AMBER is not a superset of AMBER+STRICT: a ceiling of AMBER does not release
 *    AMBER+STRICT; a ceiling of AMBER+STRICT releases AMBER and AMBER+STRICT.
 *  - an object with no TLP marking is treated as the agreement's default_tlp (AMBER
 *    unless configured);
 *  - granular markings: the object's TLP is the most restrictive of its object and
 *    granular TLP markings (a part that may not be released withholds the whole object);
 *  - PAP (the OASIS PAP extension markings) has its own ceiling, CLEAR..RED;
 *  - the agreement's collections, and its allowed / excluded object types, apply to
 *    every object; sightings and consultation objects (notes, opinions, groupings,
 *    course-of-action, tasks of the consultation extension) flow only when the
 *    agreement says so. A consultation object is any object that carries the
 *    top-level property CP_POLICY_CONSULTATION_PROP (below; docs/POLICY.md).
 *
 * Thread-safety: a struct cp_policy is immutable once built and may be shared; reload
 * builds a new one and swaps the pointer.
 */
#ifndef CYBERPACT_POLICY_H
#define CYBERPACT_POLICY_H

#include <jansson.h>

#include "cyberpact/base.h"
#include "cyberpact/stix-marking.h"

enum cp_pap {
	CP_PAP_NONE = 0,
	CP_PAP_CLEAR,
	CP_PAP_GREEN,
	CP_PAP_AMBER,
	CP_PAP_RED,
};

/* One partner's sharing agreement (what THIS node lets that partner have). */
struct cp_policy_agreement {
	const char *partner;        /* partner name: the account name of its credentials */
	const char *community;      /* community for TLP:GREEN sharing, or NULL */
	enum cp_tlp tlp_ceiling;    /* highest TLP of our own objects it may receive */
	enum cp_pap pap_ceiling;    /* highest PAP it may receive (CP_PAP_NONE = no PAP limit) */
	enum cp_tlp default_tlp;    /* TLP assumed for unmarked objects (CP_TLP_NONE = AMBER) */
	const char *const *read;    /* collection ids it may read ("*" = all) */
	size_t read_count;
	const char *const *red;     /* collections where it is a named TLP:RED recipient */
	size_t red_count;
	const char *const *types_allowed;  /* NULL/0 = every type */
	size_t types_allowed_count;
	const char *const *types_excluded;
	size_t types_excluded_count;
	bool third_party;           /* may receive objects we got from other partners */
	bool sightings;             /* may receive sightings */
	bool consultations;         /* may receive consultation objects */
	bool no_redistribution;     /* what THIS partner sends us must not go to others */
};

/* Why a decision was made: a stable code and a message for humans and the audit. */
enum cp_policy_reason_code {
	CP_POLICY_OK = 0,            /* released */
	CP_POLICY_NO_AGREEMENT,      /* no agreement with this partner */
	CP_POLICY_COLLECTION,        /* collection not in the agreement */
	CP_POLICY_TYPE,              /* object type not allowed / excluded */
	CP_POLICY_SIGHTING,          /* sightings do not flow to this partner */
	CP_POLICY_CONSULTATION,      /* consultation objects do not flow to this partner */
	CP_POLICY_TLP_CEILING,       /* TLP above the partner's ceiling */
	CP_POLICY_TLP_RED,           /* TLP:RED and not a named recipient here */
	CP_POLICY_TLP_STRICT,        /* AMBER+STRICT and the ceiling is AMBER */
	CP_POLICY_PAP_CEILING,       /* PAP above the partner's ceiling */
	CP_POLICY_THIRD_PARTY,       /* third-party object; agreement takes none */
	CP_POLICY_THIRD_PARTY_TLP,   /* third-party object marked AMBER/AMBER+STRICT/RED */
	CP_POLICY_COMMUNITY,         /* third-party GREEN outside the community */
	CP_POLICY_NO_REDISTRIBUTION, /* the originating partner forbids redistribution */
	CP_POLICY_BAD_MARKING,       /* markings the gate cannot interpret: fail closed */
	CP_POLICY_UNKNOWN_ORIGIN,    /* third-party object from a partner with no agreement */
};

enum cp_policy_decision {
	CP_POLICY_WITHHOLD = 0, /* zero: an uninitialised decision withholds */
	CP_POLICY_RELEASE,
};

struct cp_policy_reason {
	enum cp_policy_reason_code code;
	char text[256];
};

struct cp_policy;

/*
 * Build a policy from agreements (copied; the caller keeps its arrays). Agreements name
 * distinct partners (CP_EINVAL otherwise, with a finding in diag).
 *
 * Everything is copied deeply (strings and arrays): the caller may free or reuse its
 * agreements as soon as this returns. Partner names compare exactly (case matters);
 * an empty community counts as no community. Errors (all reported, then CP_EINVAL;
 * pointers are "/<index>/<field>" into the agreements array):
 *   partner-name       partner NULL or ""
 *   partner-duplicate  a second agreement for the same partner
 *   null-entry         a NULL string in a list, or a NULL list with a non-zero count
 *   empty-string       "" in a list
 *   out-of-range       tlp_ceiling, default_tlp or pap_ceiling outside its enum
 *   red-wildcard       "*" in the red list: RED recipients are named per collection
 * Warnings (the policy is still built): red-without-red-ceiling (a red list while the
 * TLP ceiling is below RED, so no RED object reaches the partner), red-not-readable (a
 * red collection that the read list does not include). CP_ENOMEM on allocation
 * failure. *out is written only on success; diag may be NULL.
 */
CP_MUST_CHECK enum cp_err cp_policy_new(const struct cp_policy_agreement *agreements,
					size_t count, struct cp_policy **out,
					struct cp_diag *diag);
void cp_policy_free(struct cp_policy *p);

/*
 * What the gate reads from an object, computed once (cp_policy_facts_of()) so that a
 * store can keep it with each version and the gate need not parse stored JSON.
 */
struct cp_policy_facts {
	const char *id;         /* may be NULL */
	const char *type;       /* NULL: no type (withheld) */
	bool consultation;      /* carries CP_POLICY_CONSULTATION_PROP */
	bool bad_marking;       /* markings the gate cannot read (withheld) */
	enum cp_tlp tlp;        /* strictest TLP of object and granular markings */
	enum cp_pap pap;        /* strictest PAP */
};

/* The facts of obj (strings borrowed from obj; obj may be NULL: no type). */
void cp_policy_facts_of(const json_t *obj, struct cp_policy_facts *out);

/* The version of an object being considered for egress. */
struct cp_policy_object {
	const json_t *obj;         /* the STIX object (validated) */
	const char *collection_id; /* where it is stored */
	const char *origin;        /* partner it came from, NULL if this node made it */
	const struct cp_policy_facts *facts; /* used instead of obj when set (the same
					      * decision, without parsing) */
};

/*
 * THE gate: may partner receive o? Fills why (if given) with the reason either way.
 * Never fails: anything it cannot decide (unknown partner, unreadable markings) is
 * CP_POLICY_WITHHOLD with the reason.
 *
 * The checks run in this order and the first that fails is the reason
 * (docs/POLICY.md has the full rules):
 *   1. an agreement with partner exists                      NO_AGREEMENT
 *   2. collection_id is in its read list (or it has "*")     COLLECTION
 *   3. the object has a type, in types_allowed (if any) and
 *      not in types_excluded                                  TYPE
 *   4. sightings need `sightings`                            SIGHTING
 *   5. consultation objects need `consultations`             CONSULTATION
 *   6. origin == partner: released (its own data goes back)  OK
 *   7. every marking reference is a marking-definition id    BAD_MARKING
 *   8. third-party objects (origin set, not partner): the recipient takes them
 *      (THIRD_PARTY), the origin has an agreement (UNKNOWN_ORIGIN) that allows
 *      redistribution (NO_REDISTRIBUTION), TLP is CLEAR or GREEN (THIRD_PARTY_TLP),
 *      GREEN only within the same community (COMMUNITY)
 *   9. TLP (object and granular, the strictest; unmarked = default_tlp, AMBER when
 *      CP_TLP_NONE; for third-party objects the stricter of the recipient's and the
 *      origin's default): RED needs a RED ceiling and the collection in the red list
 *      (TLP_RED); AMBER+STRICT under an AMBER ceiling is TLP_STRICT; anything else
 *      above the ceiling (a ceiling of CP_TLP_NONE counts as CLEAR) is TLP_CEILING
 *  10. PAP above pap_ceiling (when set)                       PAP_CEILING
 * p, partner, o and o->obj may be NULL (withheld). No allocation; reentrant; the cost
 * is a hash lookup, a few string compares and one pass over the markings (plus the
 * reason text when why is given).
 */
enum cp_policy_decision cp_policy_decide(const struct cp_policy *p, const char *partner,
					 const struct cp_policy_object *o,
					 struct cp_policy_reason *why);

/*
 * The top-level property that makes an object a consultation object (see
 * docs/POLICY.md): any object that carries it, whatever its type or value, flows only
 * to partners whose agreement has `consultations` set. The incident module writes it
 * on every object of a consultation.
 */
#define CP_POLICY_CONSULTATION_PROP "x_cyberpact_consultation_id"

/* The id of the OASIS extension definition that PAP marking definitions use. */
#define CP_POLICY_PAP_EXTENSION_ID "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b"

/*
 * The PAP of an object from its markings (OASIS PAP extension ids), CP_PAP_NONE if none:
 * the most restrictive PAP among object_marking_refs and the marking_ref of every
 * granular marking (like cp_stix_object_tlp_max() for TLP). PAP:WHITE, the legacy id,
 * counts as PAP:CLEAR. Entries that are not strings or not PAP ids are skipped here;
 * cp_policy_decide() withholds objects whose markings it cannot read. obj is borrowed
 * and may be NULL. Reentrant; no allocation.
 */
enum cp_pap cp_policy_object_pap(const json_t *obj);

/*
 * The PAP level a marking definition id stands for (case-insensitive UUID, as for
 * TLP), CP_PAP_NONE for any other id and NULL.
 */
enum cp_pap cp_policy_pap_of_marking_id(const char *marking_id);

/*
 * The OASIS id of the PAP marking definition for pap ("marking-definition--740d...",
 * PAP:CLEAR rather than the legacy PAP:WHITE), and its name ("PAP:RED"); NULL for
 * CP_PAP_NONE and values outside the enum. Static strings.
 */
const char *cp_policy_pap_marking_id(enum cp_pap pap);
const char *cp_policy_pap_name(enum cp_pap pap);

/*
 * Stable kebab-case name of a reason code for audit records ("ok", "no-agreement",
 * "tlp-strict", ...); "unknown" for values outside the enum. Static string.
 */
const char *cp_policy_reason_name(enum cp_policy_reason_code code);

#endif /* CYBERPACT_POLICY_H */
