/*
 * cyberpact/limits.h - every limit that guards against abusive or broken input,
 * in one place. Changing one here changes it everywhere; docs/LIMITS.md explains them.
 */
#ifndef CYBERPACT_LIMITS_H
#define CYBERPACT_LIMITS_H

/* JSON input */
#define CP_LIMIT_JSON_DEPTH 64               /* nesting of arrays/objects in one document */
#define CP_LIMIT_DOC_BYTES (256u << 20)      /* one file or request body read by the CLI */
#define CP_LIMIT_STRING_BYTES (16u << 20)    /* any one JSON string value */
#define CP_LIMIT_BUNDLE_OBJECTS 1000000u     /* objects in one bundle or envelope */

/* STIX */
#define CP_LIMIT_TYPE_LEN 250                /* type names: 3..250 ASCII chars */
#define CP_LIMIT_TYPE_MIN 3
#define CP_LIMIT_PROP_LEN 250                /* property names: 3..250 (custom), spec 3.1 */
#define CP_LIMIT_PROP_MIN 3
#define CP_LIMIT_FINDINGS 100000u            /* findings kept per validation report */

/* patterns (pattern module) */
#define CP_LIMIT_PATTERN_BYTES (64u << 10)
#define CP_LIMIT_PATTERN_DEPTH 128

/* bounded buffers */
#define CP_BUF_DEFAULT_MAX (64u << 20)       /* a cp_buf with max_len 0 */

#endif /* CYBERPACT_LIMITS_H */
