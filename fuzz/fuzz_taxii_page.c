/*
 * Fuzz target: a peer's answer to a page request, as the TAXII client parses it
 * (cp_taxii_page_parse): a hostile peer controls every byte. Properties checked
 * beyond "no crash, no leak, no undefined behaviour":
 *  - accepted: page->objects is an array of JSON objects that belongs to the
 *    envelope, `more` matches the envelope's boolean, `next` is the envelope's string
 *    (shorter than the buffer) or empty, and the date-added fields are empty;
 *  - refused: CP_EPARSE or CP_ENOMEM with a reason, and the output untouched;
 *  - parsing the same bytes again gives the same answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/taxii-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_taxii_page page, again, untouched;
	char why[256], why2[256];
	enum cp_err err, err2;

	cp_json_use_cp_alloc();
	memset(&page, 0xA5, sizeof(page));
	untouched = page;
	err = cp_taxii_page_parse((const char *)data, size, &page, why, sizeof(why));
	if (err == CP_OK) {
		const json_t *more = json_object_get(page.envelope, "more");
		const json_t *next = json_object_get(page.envelope, "next");
		size_t i;
		json_t *o;
		check(json_is_object(page.envelope) && json_is_array(page.objects));
		check(json_object_get(page.envelope, "objects") == page.objects);
		json_array_foreach((json_t *)page.objects, i, o)
			check(json_is_object(o));
		check(page.more == json_is_true(more));
		check(next ? (json_is_string(next) && !strcmp(page.next, json_string_value(next)))
			   : page.next[0] == '\0');
		check(strlen(page.next) < sizeof(page.next));
		check(!page.date_added_first[0] && !page.date_added_last[0]);
		/* texts, when given, are those of the parsed objects */
		check(page.texts.count == 0 || page.texts.count == json_array_size(page.objects));
		for (size_t k = 0; k < page.texts.count; k++) {
			json_t *e = json_loads(cp_stix_json_text(&page.texts, k), 0, NULL);
			check(e && json_equal(e, json_array_get(page.objects, k)));
			json_decref(e);
		}
	} else {
		check(err == CP_EPARSE || err == CP_ENOMEM);
		check(why[0] != '\0' && strlen(why) < sizeof(why));
		check(!memcmp(&page, &untouched, sizeof(page)));
	}
	memset(&again, 0, sizeof(again));
	err2 = cp_taxii_page_parse((const char *)data, size, &again, why2, sizeof(why2));
	check(err2 == err);
	if (err2 == CP_OK)
		check(json_array_size(again.objects) == json_array_size(page.objects) &&
		      again.more == page.more && !strcmp(again.next, page.next));
	else
		check(!strcmp(why, why2));
	if (err == CP_OK)
		cp_taxii_page_release(&page);
	if (err2 == CP_OK)
		cp_taxii_page_release(&again);
	return 0;
}
