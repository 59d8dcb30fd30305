/*
 * Unicode NFC normalization for LIKE and MATCHES (spec 9.6.1, 9.6.2), through ICU
 * when the build found it (CP_HAVE_ICU). Text with no code point at or above U+0300
 * is already in NFC (nothing below U+0300 composes or decomposes), which keeps the
 * common ASCII and Latin-1 case free of conversions.
 */
#ifdef CP_HAVE_ICU
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#endif

#include "obs.h"

static bool below_u0300(const char *s, size_t len)
{
	/* the lead byte of U+0300 is 0xcc; every code point below has a smaller one */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0xcc)
			return false;
	return true;
}

#ifdef CP_HAVE_ICU

enum cp_err cp__pat_nfc(const char *s, size_t len, struct cp_buf *scratch, const char **out_ptr,
			size_t *out_len)
{
	const UNormalizer2 *nfc;
	UErrorCode st = U_ZERO_ERROR;
	UChar *u16 = NULL, *norm = NULL;
	char *utf8 = NULL;
	int32_t n16 = 0, nnorm = 0, n8 = 0;
	enum cp_err err = CP_OK;

	if (below_u0300(s, len)) {
		*out_ptr = s;
		*out_len = len;
		return CP_OK;
	}
	if (len > INT32_MAX / 2)
		return CP_ETOOBIG;
	nfc = unorm2_getNFCInstance(&st);
	if (U_FAILURE(st))
		return CP_ENOMEM;
	/* UTF-8 -> UTF-16 (at most one unit per byte) */
	u16 = cp_malloc((len + 1) * sizeof(*u16));
	if (!u16) {
		err = CP_ENOMEM;
		goto out;
	}
	u_strFromUTF8(u16, (int32_t)len + 1, &n16, s, (int32_t)len, &st);
	if (U_FAILURE(st)) {
		err = CP_EINVAL;
		goto out;
	}
	if (unorm2_isNormalized(nfc, u16, n16, &st) && U_SUCCESS(st)) {
		*out_ptr = s;
		*out_len = len;
		goto out;
	}
	st = U_ZERO_ERROR;
	nnorm = unorm2_normalize(nfc, u16, n16, NULL, 0, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) {
		err = CP_EINVAL;
		goto out;
	}
	st = U_ZERO_ERROR;
	norm = cp_malloc(((size_t)nnorm + 1) * sizeof(*norm));
	if (!norm) {
		err = CP_ENOMEM;
		goto out;
	}
	unorm2_normalize(nfc, u16, n16, norm, nnorm + 1, &st);
	if (U_FAILURE(st)) {
		err = CP_EINVAL;
		goto out;
	}
	u_strToUTF8(NULL, 0, &n8, norm, nnorm, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) {
		err = CP_EINVAL;
		goto out;
	}
	st = U_ZERO_ERROR;
	utf8 = cp_malloc((size_t)n8 + 1);
	if (!utf8) {
		err = CP_ENOMEM;
		goto out;
	}
	u_strToUTF8(utf8, n8 + 1, &n8, norm, nnorm, &st);
	if (U_FAILURE(st)) {
		err = CP_EINVAL;
		goto out;
	}
	cp_buf_reset(scratch);
	cp_buf_append(scratch, utf8, (size_t)n8);
	err = cp_buf_finish(scratch);
	if (err)
		goto out;
	*out_ptr = scratch->ptr;
	*out_len = scratch->len;
out:
	cp_free(u16);
	cp_free(norm);
	cp_free(utf8);
	return err;
}

#else

enum cp_err cp__pat_nfc(const char *s, size_t len, struct cp_buf *scratch, const char **out_ptr,
			size_t *out_len)
{
	(void)scratch;
	(void)below_u0300;
	*out_ptr = s;
	*out_len = len;
	return CP_OK;
}

#endif
