/*
 * STIX Cyber-observable Objects (spec section 6): property tables, cross-property
 * rules, predefined extensions and deterministic ids.
 *
 * JSON documents are written with ' for " to keep them readable; sco_parse() swaps
 * them back (a literal apostrophe would be written \u0027).
 */
#include "testutil.h"
#include "cyberpact/stix.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static json_t *sco_parse(const char *squoted)
{
	size_t n = strlen(squoted);
	char *text = malloc(n + 1);
	struct cp_diag d;
	json_t *j = NULL;

	assert_non_null(text);
	for (size_t i = 0; i <= n; i++)
		text[i] = squoted[i] == '\'' ? '"' : squoted[i];
	cp_diag_init(&d);
	if (cp_stix_json_parse(text, n, &j, &d) != CP_OK) {
		tu_dump(&d);
		fail_msg("test document does not parse: %s", text);
	}
	cp_diag_release(&d);
	free(text);
	return j;
}

/* Validate a document (object or array) into d, which the caller releases. */
static void sco_validate(const char *squoted, unsigned flags, struct cp_diag *d)
{
	json_t *j = sco_parse(squoted);

	cp_diag_init(d);
	assert_int_equal(cp_stix_validate(j, flags, d), CP_OK);
	json_decref(j);
}

/* ------------------------------------------------------ deterministic ids */

/*
 * Objects that validate clean, with ids computed independently by Python's standard
 * library over the id-contributing properties (spec 2.9), one hash only (MD5, then
 * SHA-1, SHA-256, SHA-512):
 *
 *   python3 -c "import json,uuid; print(uuid.uuid5(
 *     uuid.UUID('00abedb4-aa42-466c-9c01-fed23315a9b7'),
 *     json.dumps(CONTRIB, sort_keys=True, separators=(',', ':'), ensure_ascii=False)))"
 *
 * where CONTRIB is e.g. {'value': '10.2.4.5/24'} for the ipv4-addr, and for the file
 * with MD5 preferred {'hashes': {'MD5': 'd41d...'}, 'name': 'empty.bin',
 * 'parent_directory_ref': 'directory--8e2e...'}.
 */
struct id_case {
	const char *name;
	const char *id;
	const char *json;
};

static const struct id_case id_cases[] = {
	{"ipv4-addr", "ipv4-addr--a030badd-36d7-5109-891d-10d254bdd359",
		"{'type':'ipv4-addr','id':'ipv4-addr--a030badd-36d7-5109-891d-10d254bdd359',"
		"'spec_version':'2.1','value':'10.2.4.5/24'}"},
	{"ipv6-addr", "ipv6-addr--8da31feb-e0f9-54c3-ab30-bd8ccea361dd",
		"{'type':'ipv6-addr','id':'ipv6-addr--8da31feb-e0f9-54c3-ab30-bd8ccea361dd',"
		"'spec_version':'2.1','value':'2001:db8::/32'}"},
	{"domain-name", "domain-name--6d0535cc-be4a-5b19-8eb8-af15195817e6",
		"{'type':'domain-name','id':'domain-name--6d0535cc-be4a-5b19-8eb8-af15195817e6',"
		"'spec_version':'2.1','value':'www.example.org','resolves_to_refs':['ipv4-addr--8"
		"e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f','ipv6-addr--8e2e2d2b-17d4-4cbf-938f-98ee46b"
		"3cd3f','domain-name--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f']}"},
	{"url", "url--1644bede-b803-585d-a941-a73286627796",
		"{'type':'url','id':'url--1644bede-b803-585d-a941-a73286627796',"
		"'spec_version':'2.1','value':'https://example.com/a/b?q=1&r=%20x#frag'}"},
	{"email-addr", "email-addr--48bfc39c-200f-5fbd-a049-2801e0fa5da4",
		"{'type':'email-addr','id':'email-addr--48bfc39c-200f-5fbd-a049-2801e0fa5da4',"
		"'spec_version':'2.1','value':'alice@example.net',"
		"'display_name':'Alice','belongs_to_ref':'user-account--8e2e2d2b-17d4-4cbf-938f-9"
		"8ee46b3cd3f'}"},
	{"mac-addr", "mac-addr--7481cf84-cfdd-58cb-b3da-9102f4644957",
		"{'type':'mac-addr','id':'mac-addr--7481cf84-cfdd-58cb-b3da-9102f4644957',"
		"'spec_version':'2.1','value':'00:00:ab:cd:ef:01'}"},
	{"mutex with escapes", "mutex--1705609c-1500-5c54-b694-36fa9723f9c2",
		"{'type':'mutex','id':'mutex--1705609c-1500-5c54-b694-36fa9723f9c2',"
		"'spec_version':'2.1','name':'a\\\"b\\\\c\\n\\t\\u0001\\u007f\\u00e9\\u20ac\\ud83"
		"d\\ude00\\u2028'}"},
	{"autonomous-system", "autonomous-system--9ad79ee3-2fde-5015-b0cc-7a96404effca",
		"{'type':'autonomous-system','id':'autonomous-system--9ad79ee3-2fde-5015-b0cc-7a9"
		"6404effca','spec_version':'2.1','number':64496,'name':'Example AS',"
		"'rir':'RIPE NCC'}"},
	{"directory", "directory--65bf9886-c2fc-5ab1-b872-66a740617647",
		"{'type':'directory','id':'directory--65bf9886-c2fc-5ab1-b872-66a740617647',"
		"'spec_version':'2.1','path':'C:\\\\Windows\\\\Temp',"
		"'path_enc':'UTF-8','ctime':'2020-01-01T00:00:00Z',"
		"'contains_refs':['file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',"
		"'directory--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f']}"},
	{"file with MD5 preferred", "file--49cb952e-0466-574e-ba5b-b07b44b27259",
		"{'type':'file','id':'file--49cb952e-0466-574e-ba5b-b07b44b27259',"
		"'spec_version':'2.1','hashes':{'SHA-256':'e3b0c44298fc1c149afbf4c8996fb92427ae41"
		"e4649b934ca495991b7852b855','SHA-1':'da39a3ee5e6b4b0d3255bfef95601890afd80709',"
		"'MD5':'d41d8cd98f00b204e9800998ecf8427e'},'size':0,"
		"'name':'empty.bin','parent_directory_ref':'directory--8e2e2d2b-17d4-4cbf-938f-98"
		"ee46b3cd3f','content_ref':'artifact--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',"
		"'contains_refs':['ipv4-addr--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f'],"
		"'magic_number_hex':'4D5A','mime_type':'application/octet-stream'}"},
	{"file with SHA-256 over SHA-512", "file--22f8ff52-8f62-5f03-a53a-6f50f54fd74c",
		"{'type':'file','id':'file--22f8ff52-8f62-5f03-a53a-6f50f54fd74c',"
		"'spec_version':'2.1','hashes':{'SHA-512':'cf83e1357eefb8bdf1542850d66d8007d620e4"
		"050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a53832"
		"7af927da3e','SHA-256':'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7"
		"852b855'}}"},
	{"file with extensions", "file--4e53b6d3-18d3-5b7e-95da-941b0ed9a256",
		"{'type':'file','id':'file--4e53b6d3-18d3-5b7e-95da-941b0ed9a256',"
		"'spec_version':'2.1','name':'foo.zip','extensions':{'archive-ext':{'contains_ref"
		"s':['file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f'],"
		"'comment':'two files'},'ntfs-ext':{'sid':'S-1-5-21-1',"
		"'alternate_data_streams':[{'name':'second.stream',"
		"'size':25536,'hashes':{'MD5':'d41d8cd98f00b204e9800998ecf8427e'}}]}}}"},
	{"artifact", "artifact--5e002fc3-5a42-5fc6-b59f-83ab03262ddf",
		"{'type':'artifact','id':'artifact--5e002fc3-5a42-5fc6-b59f-83ab03262ddf',"
		"'spec_version':'2.1','mime_type':'application/zip',"
		"'payload_bin':'UEsDBAoAAAAAAA==','hashes':{'SHA-256':'e3b0c44298fc1c149afbf4c899"
		"6fb92427ae41e4649b934ca495991b7852b855'},'encryption_algorithm':'mime-type-indic"
		"ated','decryption_key':'infected'}"},
	{"email-message", "email-message--bb184f79-5fbc-582e-a80d-8d93263b3c6e",
		"{'type':'email-message','id':'email-message--bb184f79-5fbc-582e-a80d-8d93263b3c6"
		"e','spec_version':'2.1','is_multipart':false,'from_ref':'email-addr--8e2e2d2b-17"
		"d4-4cbf-938f-98ee46b3cd3f','to_refs':['email-addr--8e2e2d2b-17d4-4cbf-938f-98ee4"
		"6b3cd3f'],'subject':'Saying Hello','body':'Hi there',"
		"'date':'1997-11-21T15:55:06.000Z','additional_header_fields':{'Reply-To':['steve"
		"@example.com','jane@example.com']}}"},
	{"network-traffic", "network-traffic--c6f8fd53-e718-56bb-8a74-8ad9e2f84e09",
		"{'type':'network-traffic','id':'network-traffic--c6f8fd53-e718-56bb-8a74-8ad9e2f"
		"84e09','spec_version':'2.1','src_ref':'ipv4-addr--8e2e2d2b-17d4-4cbf-938f-98ee46"
		"b3cd3f','dst_ref':'domain-name--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',"
		"'src_port':49152,'dst_port':443,'protocols':['ipv4',"
		"'tcp','http'],'start':'2020-01-01T00:00:00Z','end':'2020-01-01T00:00:01.5Z',"
		"'src_byte_count':147600,'src_packets':100,'ipfix':{'minimumIpTotalLength':32,"
		"'flowLabel':'x'}}"},
	{"software", "software--710b0b41-d4d0-5d6c-a400-fc9254554ffc",
		"{'type':'software','id':'software--710b0b41-d4d0-5d6c-a400-fc9254554ffc',"
		"'spec_version':'2.1','name':'Word','cpe':'cpe:2.3:a:microsoft:word:2000:*:*:*:*:"
		"*:*:*','languages':['en','de-CH','zh-Hant-TW'],'vendor':'Microsoft',"
		"'version':'2002'}"},
	{"user-account", "user-account--f94d689e-707d-58c3-b803-c720bb6ed096",
		"{'type':'user-account','id':'user-account--f94d689e-707d-58c3-b803-c720bb6ed096'"
		",'spec_version':'2.1','user_id':'1001','account_login':'jdoe',"
		"'account_type':'unix','display_name':'John Doe',"
		"'is_privileged':false,'account_created':'2016-01-20T12:31:12Z',"
		"'extensions':{'unix-account-ext':{'gid':1001,'groups':['wheel'],"
		"'home_dir':'/home/jdoe','shell':'/bin/bash'}}}"},
	{"windows-registry-key", "windows-registry-key--15cc0be8-345d-51a6-87c4-d489363a1ee7",
		"{'type':'windows-registry-key','id':'windows-registry-key--15cc0be8-345d-51a6-87"
		"c4-d489363a1ee7','spec_version':'2.1','key':'HKEY_LOCAL_MACHINE\\\\System\\\\Foo"
		"','values':[{'name':'','data':'default','data_type':'REG_SZ'},"
		"{'name':'Bar','data':'42','data_type':'REG_DWORD'}],"
		"'modified_time':'2020-01-01T00:00:00Z','creator_user_ref':'user-account--8e2e2d2"
		"b-17d4-4cbf-938f-98ee46b3cd3f','number_of_subkeys':2}"},
	{"x509-certificate", "x509-certificate--b473e2d9-c190-513d-aa44-f8eb6ffcfd7a",
		"{'type':'x509-certificate','id':'x509-certificate--b473e2d9-c190-513d-aa44-f8eb6"
		"ffcfd7a','spec_version':'2.1','hashes':{'SHA-256':'e3b0c44298fc1c149afbf4c8996fb"
		"92427ae41e4649b934ca495991b7852b855','SHA-1':'da39a3ee5e6b4b0d3255bfef95601890af"
		"d80709'},'serial_number':'36:f7:d4:32','version':'3',"
		"'is_self_signed':false,'validity_not_before':'2016-03-12T12:00:00Z',"
		"'validity_not_after':'2016-08-21T12:00:00Z','subject_public_key_exponent':65537,"
		"'x509_v3_extensions':{'basic_constraints':'critical,"
		"CA:TRUE, pathlen:0','private_key_usage_period_not_before':'2016-03-12T12:00:00Z'"
		",'private_key_usage_period_not_after':'2018-03-12T12:00:00Z'}}"},
};

static void ids_match_python(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(id_cases); i++) {
		const struct id_case *c = &id_cases[i];
		json_t *j = sco_parse(c->json);
		char id[CP_STIX_ID_MAX];
		struct cp_diag d;

		assert_int_equal(cp_stix_sco_id(j, id), CP_OK);
		if (strcmp(id, c->id) != 0)
			fail_msg("%s: computed %s, python says %s", c->name, id, c->id);
		json_decref(j);
		/* the same object, with its right id, validates without findings */
		sco_validate(c->json, 0, &d);
		if (d.count) {
			tu_dump(&d);
			fail_msg("%s: expected a clean object", c->name);
		}
		cp_diag_release(&d);
	}
}

static void ids_not_found(void **state)
{
	static const char *const docs[] = {
		/* 6.13: process ids are UUIDv4, there are no id-contributing properties */
		"{'type':'process','id':'process--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',"
		"'pid':1221}",
		/* none of key/values present */
		"{'type':'windows-registry-key','id':'windows-registry-key--8e2e2d2b-17d4-4cbf-"
		"938f-98ee46b3cd3f','number_of_subkeys':1}",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
		json_t *j = sco_parse(docs[i]);
		char id[CP_STIX_ID_MAX];
		assert_int_equal(cp_stix_sco_id(j, id), CP_ENOTFOUND);
		json_decref(j);
	}
}

/* A wrong deterministic id is a warning at /id (the table's id_contrib is used). */
static void wrong_id_warns(void **state)
{
	struct cp_diag d;

	(void)state;
	sco_validate("{'type':'domain-name','id':'domain-name--bedb4899-d24b-5401-bc86-"
		    "8f6b4cc18ec7','value':'example.org'}",
		    0, &d);
	assert_finding(&d, CP_SEV_WARNING, "sco-id", "/id");
	assert_int_equal(d.count, 1);
	cp_diag_release(&d);
}

/*
 * The SCO examples of spec section 6 (process excepted: UUIDv4), with the id Python
 * computes for each as above and whether the id the spec states agrees. Section 3.4
 * admits that some example ids are not right; spec_agrees is false for those 17.
 */
struct spec_case {
	const char *computed;
	bool spec_agrees;
	const char *json;
};

static const struct spec_case spec_cases[] = {
	{"artifact--a785c567-cc53-52a1-abeb-026bb7ddf8ba", true,
		"{'type':'artifact','spec_version':'2.1','id':'artifact--a785c567-cc53-52a1-abeb-"
		"026bb7ddf8ba','mime_type':'image/jpeg','payload_bin':'VBORw0KGgoAAAANSUhEUgAAADI"
		"== ...'}"},
	{"artifact--6be1fbcb-fd03-5ec3-b05f-4329746e9d2b", true,
		"{'type':'artifact','spec_version':'2.1','id':'artifact--6be1fbcb-fd03-5ec3-b05f-"
		"4329746e9d2b','mime_type':'application/zip','payload_bin':'ZX7HIBWPQA99NSUhEUgAA"
		"ADI== ...','encryption_algorithm':'mime-type-indicated',"
		"'decryption_key':'My voice is my passport'}"},
	{"autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff", true,
		"{'type':'autonomous-system','spec_version':'2.1',"
		"'id':'autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff',"
		"'number':15139,'name':'Slime Industries','rir':'ARIN'}"},
	{"directory--0a58d0c1-59e6-5afd-8252-dcd3f13e5622", true,
		"{'type':'directory','spec_version':'2.1','id':'directory--0a58d0c1-59e6-5afd-825"
		"2-dcd3f13e5622','path':'C:\\\\Windows\\\\System32'}"},
	{"domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7", true,
		"{'type':'domain-name','spec_version':'2.1','id':'domain-name--bedb4899-d24b-5401"
		"-bc86-8f6b4cc18ec7','value':'example.com','resolves_to_refs':['ipv4-addr--28bb35"
		"99-77cd-5a82-a950-b5bc3caf07c4']}"},
	{"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--28bb3599-77cd-5a82-a95"
		"0-b5bc3caf07c4','value':'198.51.100.3'}"},
	{"email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934", true,
		"{'type':'email-addr','spec_version':'2.1','id':'email-addr--7165e2a9-671f-585d-b"
		"1e1-ca59c671d934','value':'john@example.com','display_name':'John Doe'}"},
	{"email-message--16177f7c-38c5-59f4-baa5-b934fa13ce49", false,
		"{'type':'email-message','spec_version':'2.1','id':'email-message--92fa1bfd-2c62-"
		"5a30-8b7c-5b91ea73cf29','from_ref':'email-addr--6deb37bd-12b7-54ae-805f-5f7146f3"
		"d171','to_refs':['email-addr--2aeeb98c-9db4-525e-874d-221fdfe9f76e'],"
		"'is_multipart':false,'date':'1997-11-21T15:55:06.000Z',"
		"'subject':'Saying Hello'}"},
	{"email-addr--6deb37bd-12b7-54ae-805f-5f7146f3d171", true,
		"{'type':'email-addr','spec_version':'2.1','id':'email-addr--6deb37bd-12b7-54ae-8"
		"05f-5f7146f3d171','value':'jdoe@example.com','display_name':'John Doe'}"},
	{"email-addr--2aeeb98c-9db4-525e-874d-221fdfe9f76e", true,
		"{'type':'email-addr','spec_version':'2.1','id':'email-addr--2aeeb98c-9db4-525e-8"
		"74d-221fdfe9f76e','value':'mary@example.com','display_name':'Mary Smith'}"},
	{"email-message--fcc5f04a-74bf-5006-920c-70a2ab258885", false,
		"{'type':'email-message','spec_version':'2.1','id':'email-message--0c57a381-2a17-"
		"5e61-8754-5ef96efb286c','from_ref':'email-addr--9b7e29b3-fd8d-562e-b3f0-8fc8134f"
		"5dda','to_refs':['email-addr--3734e66b-c4e8-5d0b-bca9-befdd5699746'],"
		"'is_multipart':false,'date':'2004-04-19T12:22:23.000Z',"
		"'subject':'Did you see this?','additional_header_fields':{'Reply-To':['steve@exa"
		"mple.com','jane@example.com']}}"},
	{"email-addr--9d9e6665-57ca-501a-9c1f-435852499a2a", false,
		"{'type':'email-addr','spec_version':'2.1','id':'email-addr--9b7e29b3-fd8d-562e-b"
		"3f0-8fc8134f5dda','value':'joe@example.com','display_name':'Joe Smith'}"},
	{"email-addr--3734e66b-c4e8-5d0b-bca9-befdd5699746", true,
		"{'type':'email-addr','spec_version':'2.1','id':'email-addr--3734e66b-c4e8-5d0b-b"
		"ca9-befdd5699746','value':'bob@example.com','display_name':'Bob Smith'}"},
	{"email-message--1ad5d678-0d09-5ed2-b23f-db3b297baee6", false,
		"{'type':'email-message','spec_version':'2.1','id':'email-message--d7d69ead-3347-"
		"5772-815a-7766dc29c72c','is_multipart':true,'received_lines':['from mail.example"
		".com ([198.51.100.3]) by smtp.gmail.com with ESMTPSA id q23sm23309939wme.17.2016"
		".07.19.07.20.32 (version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128)"
		"; Tue, 19 Jul 2016 07:20:40 -0700 (PDT)'],'content_type':'multipart/mixed',"
		"'date':'2016-06-19T14:20:40.000Z','from_ref':'email-addr--6deb37bd-12b7-54ae-805"
		"f-5f7146f3d171','to_refs':['email-addr--3734e66b-c4e8-5d0b-bca9-befdd5699746'],"
		"'cc_refs':['email-addr--2aeeb98c-9db4-525e-874d-221fdfe9f76e'],"
		"'subject':'Check out this picture of a cat!','additional_header_fields':{'Conten"
		"t-Disposition':'inline','X-Mailer':'Mutt/1.5.23',"
		"'X-Originating-IP':'198.51.100.3'},'body_multipart':[{'content_type':'text/plain"
		"; charset=utf-8','content_disposition':'inline',"
		"'body':'Cats are funny!'},{'content_type':'image/png',"
		"'content_disposition':'attachment; filename=\\\"tabby.png\\\"',"
		"'body_raw_ref':'artifact--0682152c-646a-513b-bc07-e516494ed178'},"
		"{'content_type':'application/zip','content_disposition':'attachment; filename=\\"
		"\"tabby_pics.zip\\\"','body_raw_ref':'file--cfebcece-2336-51b0-baf1-d94daae5e1d1"
		"'}]}"},
	{"artifact--0682152c-646a-513b-bc07-e516494ed178", true,
		"{'type':'artifact','spec_version':'2.1','id':'artifact--0682152c-646a-513b-bc07-"
		"e516494ed178','mime_type':'image/jpeg','payload_bin':'VBORw0KGgoAAAANSUhEUgAAADI"
		"== ...','hashes':{'SHA-256':'effb46bba03f6c8aea5c653f9cf984f170dcdd3bbbe2ff6843c"
		"3e5da0e698766'}}"},
	{"file--cfebcece-2336-51b0-baf1-d94daae5e1d1", true,
		"{'type':'file','spec_version':'2.1','id':'file--cfebcece-2336-51b0-baf1-d94daae5"
		"e1d1','name':'tabby_pics.zip','magic_number_hex':'504B0304',"
		"'hashes':{'SHA-256':'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac"
		"681db'}}"},
	{"file--949eb97a-da1e-5292-8959-03c4249dc9f3", true,
		"{'type':'file','spec_version':'2.1','id':'file--949eb97a-da1e-5292-8959-03c4249d"
		"c9f3','hashes':{'SHA-256':'fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e"
		"4bfbac681db'},'size':25536,'name':'foo.dll'}"},
	{"file--7d1e3a18-89e7-5bc5-be36-9879f5b7f5c8", true,
		"{'type':'file','spec_version':'2.1','id':'file--7d1e3a18-89e7-5bc5-be36-9879f5b7"
		"f5c8','hashes':{'SHA-256':'841a8921140aba50671ebb0770fecc4ee308c4952cfeff8de154a"
		"b14eeef4649'},'name':'qu\\u00eary.dll','name_enc':'windows-1252'}"},
	{"file--362a53af-9834-500e-8f3b-b73e83206cdd", false,
		"{'type':'file','spec_version':'2.1','id':'file--39643577-13b7-5f21-9584-df7e7c33"
		"f357','hashes':{'SHA-256':'ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077"
		"c0f622b285a'},'parent_directory_ref':'directory--0a58d0c1-59e6-5afd-8252-dcd3f13"
		"e5622','name':'qwerty.dll'}"},
	{"file--70221dbf-52fd-5377-9619-c0ce6b3ffc8c", true,
		"{'type':'file','spec_version':'2.1','id':'file--70221dbf-52fd-5377-9619-c0ce6b3f"
		"fc8c','hashes':{'SHA-256':'ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077"
		"c0f622b285a'}}"},
	{"file--c0e2b1c9-232d-5b64-8b74-b6aee5bb9c47", true,
		"{'type':'file','spec_version':'2.1','id':'file--c0e2b1c9-232d-5b64-8b74-b6aee5bb"
		"9c47','hashes':{'SHA-256':'19c549ec2628b989382f6b280cbd7bb836a0b461332c0fe53511c"
		"e7d584b89d3'}}"},
	{"file--5d0833b7-065e-571f-8bf2-657cb9569570", true,
		"{'type':'file','spec_version':'2.1','id':'file--5d0833b7-065e-571f-8bf2-657cb956"
		"9570','hashes':{'SHA-256':'0969de02ecf8a5f003e3f6d063d848c8a193aada092623f8ce408"
		"c15bcb5f038'}}"},
	{"file--f476866f-5640-5da5-bc69-e5629ef6fb99", false,
		"{'type':'file','spec_version':'2.1','id':'file--9a1f834d-2506-5367-baec-7aa63996"
		"ac43','name':'foo.zip','hashes':{'SHA-256':'35a01331e9ad96f751278b891b6ea0969980"
		"6faedfa237d40513d92ad1b7100f'},'mime_type':'application/zip',"
		"'extensions':{'archive-ext':{'contains_refs':['file--70221dbf-52fd-5377-9619-c0c"
		"e6b3ffc8c','file--c0e2b1c9-232d-5b64-8b74-b6aee5bb9c47',"
		"'file--5d0833b7-065e-571f-8bf2-657cb9569570']}}}"},
	{"file--ba04c974-3cef-5f42-adc7-084d467874e2", true,
		"{'type':'file','spec_version':'2.1','id':'file--ba04c974-3cef-5f42-adc7-084d4678"
		"74e2','hashes':{'SHA-256':'35a01331e9ad96f751278b891b6ea09699806faedfa237d40513d"
		"92ad1b7100f'},'extensions':{'ntfs-ext':{'alternate_data_streams':[{'name':'secon"
		"d.stream','size':25536}]}}}"},
	{"file--965aa96f-d90a-506a-8317-d38d44b235f9", true,
		"{'type':'file','spec_version':'2.1','id':'file--965aa96f-d90a-506a-8317-d38d44b2"
		"35f9','name':'example.pdf','extensions':{'pdf-ext':{'version':'1.7',"
		"'document_info_dict':{'Title':'Sample document',"
		"'Author':'Adobe Systems Incorporated','Creator':'Adobe FrameMaker 5.5.3 for Powe"
		"r Macintosh','Producer':'Acrobat Distiller 3.01 for Power Macintosh',"
		"'CreationDate':'20070412090123-02'},'pdfid0':'DFCE52BD827ECF765649852119D',"
		"'pdfid1':'57A1E0F9ED2AE523E313C'}}}"},
	{"file--66772174-3442-5e0d-b577-4bd7be55fb87", true,
		"{'type':'file','spec_version':'2.1','id':'file--66772174-3442-5e0d-b577-4bd7be55"
		"fb87','name':'picture.jpg','hashes':{'SHA-256':'4bac27393bdd9777ce02453256c5577c"
		"d02275510b2227f473d03f533924f877'},'extensions':{'raster-image-ext':{'exif_tags'"
		":{'Make':'Nikon','Model':'D7000','XResolution':4928,"
		"'YResolution':3264}}}}"},
	{"file--9af228db-9a04-5787-ad43-ccadc137a0e2", true,
		"{'type':'file','spec_version':'2.1','id':'file--9af228db-9a04-5787-ad43-ccadc137"
		"a0e2','name':'example.exe','extensions':{'windows-pebinary-ext':{'pe_type':'exe'"
		",'machine_hex':'014c','number_of_sections':4,'time_date_stamp':'2016-01-22T12:31"
		":12Z','pointer_to_symbol_table_hex':'74726144','number_of_symbols':4542568,"
		"'size_of_optional_header':224,'characteristics_hex':'818f',"
		"'optional_header':{'magic_hex':'010b','major_linker_version':2,"
		"'minor_linker_version':25,'size_of_code':512,'size_of_initialized_data':283648,"
		"'size_of_uninitialized_data':0,'address_of_entry_point':4096,"
		"'base_of_code':4096,'base_of_data':8192,'image_base':14548992,"
		"'section_alignment':4096,'file_alignment':4096,'major_os_version':1,"
		"'minor_os_version':0,'major_image_version':0,'minor_image_version':0,"
		"'major_subsystem_version':4,'minor_subsystem_version':0,"
		"'win32_version_value_hex':'00','size_of_image':299008,"
		"'size_of_headers':4096,'checksum_hex':'00','subsystem_hex':'03',"
		"'dll_characteristics_hex':'00','size_of_stack_reserve':100000,"
		"'size_of_stack_commit':8192,'size_of_heap_reserve':100000,"
		"'size_of_heap_commit':4096,'loader_flags_hex':'abdbffde',"
		"'number_of_rva_and_sizes':3758087646},'sections':[{'name':'CODE',"
		"'entropy':0.061089},{'name':'DATA','entropy':7.980693},"
		"{'name':'NicolasB','entropy':0.607433},{'name':'.idata',"
		"'entropy':0.607433}]}}}"},
	{"ipv4-addr--1ea47840-aa39-5aa8-b4a2-cd203eb6662a", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--1ea47840-aa39-5aa8-b4a"
		"2-cd203eb6662a','value':'198.51.100.0/24'}"},
	{"ipv6-addr--85a85a8c-ee99-5722-946d-3c3a3270fc6f", true,
		"{'type':'ipv6-addr','spec_version':'2.1','id':'ipv6-addr--85a85a8c-ee99-5722-946"
		"d-3c3a3270fc6f','value':'2001:0db8:85a3:0000:0000:8a2e:0370:7334'}"},
	{"ipv6-addr--084d3b4c-7785-568a-a569-0c61c95754ab", true,
		"{'type':'ipv6-addr','spec_version':'2.1','id':'ipv6-addr--084d3b4c-7785-568a-a56"
		"9-0c61c95754ab','value':'2001:0db8::/96'}"},
	{"mac-addr--757b1725-9903-54f5-a855-1240691d7659", true,
		"{'type':'mac-addr','spec_version':'2.1','id':'mac-addr--757b1725-9903-54f5-a855-"
		"1240691d7659','value':'d2:fb:49:24:37:18'}"},
	{"mutex--f93fe911-e545-5239-b9b0-597840d0c871", true,
		"{'type':'mutex','spec_version':'2.1','id':'mutex--f93fe911-e545-5239-b9b0-597840"
		"d0c871','name':'__CLEANSWEEP__'}"},
	{"ipv4-addr--9cf4a8ec-7640-5f40-a006-79942896168b", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--9cf4a8ec-7640-5f40-a00"
		"6-79942896168b','value':'198.51.100.2'}"},
	{"network-traffic--4292dccf-844d-5aa2-a8c2-285ed7a90c02", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--6e0cb830-0"
		"305-57d4-8536-7be874d42005','src_ref':'ipv4-addr--9cf4a8ec-7640-5f40-a006-799428"
		"96168b','dst_ref':'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4',"
		"'protocols':['tcp']}"},
	{"network-traffic--63e14605-0d23-5c83-a805-5b4c3feefca0", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--c695ada6-5"
		"d5d-5446-a661-935874e1d058','dst_ref':'domain-name--bedb4899-d24b-5401-bc86-8f6b"
		"4cc18ec7','protocols':['ipv4','tcp','http']}"},
	{"ipv4-addr--ad74bc22-43d2-52ed-890e-7d382f58e1eb", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--ad74bc22-43d2-52ed-890"
		"e-7d382f58e1eb','value':'203.0.113.1'}"},
	{"ipv4-addr--826fe3cb-56b0-5620-9d30-4c17ed7b24e3", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--826fe3cb-56b0-5620-9d3"
		"0-4c17ed7b24e3','value':'203.0.113.5'}"},
	{"network-traffic--b73c5916-7670-5d2a-a5d2-9893707a48fc", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--44eb3012-7"
		"51d-5c12-b9ba-1506e42e26ef','src_ref':'ipv4-addr--ad74bc22-43d2-52ed-890e-7d382f"
		"58e1eb','dst_ref':'ipv4-addr--826fe3cb-56b0-5620-9d30-4c17ed7b24e3',"
		"'protocols':['ipv4','tcp'],'src_byte_count':147600,"
		"'src_packets':100,'ipfix':{'minimumIpTotalLength':32,"
		"'maximumIpTotalLength':2556}}"},
	{"ipv4-addr--a2935766-2522-5939-9513-cc3536f212a3", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--a2935766-2522-5939-951"
		"3-cc3536f212a3','value':'203.0.113.2'}"},
	{"network-traffic--37fb70d2-f797-5de2-b914-5057b9334eeb", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--372c0c73-7"
		"77a-50de-bc3a-92cc72fcf7dd','src_ref':'ipv4-addr--9cf4a8ec-7640-5f40-a006-799428"
		"96168b','dst_ref':'ipv4-addr--ad74bc22-43d2-52ed-890e-7d382f58e1eb',"
		"'src_port':2487,'dst_port':1723,'protocols':['ipv4',"
		"'pptp'],'src_byte_count':35779,'dst_byte_count':935750,"
		"'encapsulates_refs':['network-traffic--8dce0dc4-f5ea-5313-8e6c-03646d419b6a']}"},
	{"network-traffic--ddebd3a7-abe2-502c-9a70-762af19d40bf", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--8dce0dc4-f"
		"5ea-5313-8e6c-03646d419b6a','src_ref':'ipv4-addr--9cf4a8ec-7640-5f40-a006-799428"
		"96168b','dst_ref':'ipv4-addr--a2935766-2522-5939-9513-cc3536f212a3',"
		"'src_port':24678,'dst_port':80,'protocols':['ipv4',"
		"'tcp','http'],'src_packets':14356,'dst_packets':14356,"
		"'encapsulated_by_ref':'network-traffic--372c0c73-777a-50de-bc3a-92cc72fcf7dd'}"},
	{"ipv4-addr--13cba85b-1780-5517-b600-7b6546cfd760", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--13cba85b-1780-5517-b60"
		"0-7b6546cfd760','value':'198.51.100.34'}"},
	{"ipv4-addr--23476ffc-8715-5eee-bd37-2f204b7db486", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--23476ffc-8715-5eee-bd3"
		"7-2f204b7db486','value':'198.51.100.54'}"},
	{"network-traffic--3344ecf8-eaf9-5d53-943a-57487b68c451", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--fc1686c0-b"
		"36e-5041-9ce4-c8df9cf10d6d','src_ref':'ipv4-addr--ad74bc22-43d2-52ed-890e-7d382f"
		"58e1eb','dst_ref':'ipv4-addr--13cba85b-1780-5517-b600-7b6546cfd760',"
		"'src_port':2487,'dst_port':53,'protocols':['ipv4',"
		"'udp','dns'],'src_byte_count':35779,'dst_byte_count':935750,"
		"'encapsulates_refs':['network-traffic--27ed09d5-f85a-5a8e-8590-49a91d7e510e']}"},
	{"network-traffic--0431cc83-ba12-56bd-8e93-8825d6e3f941", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--27ed09d5-f"
		"85a-5a8e-8590-49a91d7e510e','src_ref':'ipv4-addr--13cba85b-1780-5517-b600-7b6546"
		"cfd760','dst_ref':'ipv4-addr--23476ffc-8715-5eee-bd37-2f204b7db486',"
		"'src_port':24678,'dst_port':443,'protocols':['ipv4',"
		"'tcp','ssl','http'],'src_packets':14356,'dst_packets':14356,"
		"'encapsulated_by_ref':'network-traffic--fc1686c0-b36e-5041-9ce4-c8df9cf10d6d'}"},
	{"ipv4-addr--165070a8-c561-58a8-8659-fce2f255c2c0", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--165070a8-c561-58a8-865"
		"9-fce2f255c2c0','value':'198.51.100.53'}"},
	{"network-traffic--8cfd806e-0ece-5001-a8e9-e266cff4822f", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--fdd6dbda-a"
		"206-52fe-b19b-64d908748850','dst_ref':'ipv4-addr--165070a8-c561-58a8-8659-fce2f2"
		"55c2c0','protocols':['tcp','http'],'extensions':{'http-request-ext':{'request_me"
		"thod':'get','request_value':'/download.html','request_version':'http/1.1',"
		"'request_header':{'Accept-Encoding':['gzip,deflate'],"
		"'User-Agent':['Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.6) Gecko/200"
		"40113'],'Host':['www.example.com']}}}}"},
	{"ipv4-addr--4b8ed646-46df-5a9c-b5a6-b3ae128f35a6", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--4b8ed646-46df-5a9c-b5a"
		"6-b3ae128f35a6','value':'198.51.100.9'}"},
	{"network-traffic--e39b7ed3-feb9-53ae-9667-224879499d87", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--4f156a67-4"
		"efc-58fb-b0a7-f2612927a37d','src_ref':'ipv4-addr--4b8ed646-46df-5a9c-b5a6-b3ae12"
		"8f35a6','dst_ref':'ipv4-addr--826fe3cb-56b0-5620-9d30-4c17ed7b24e3',"
		"'protocols':['icmp'],'extensions':{'icmp-ext':{'icmp_type_hex':'08',"
		"'icmp_code_hex':'00'}}}"},
	{"network-traffic--0939c7eb-f0a4-5117-b5dc-2133fd8c3e2b", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--59d8852c-0"
		"c68-5e0c-8ae2-f3c46bd7b1df','src_ref':'ipv4-addr--9cf4a8ec-7640-5f40-a006-799428"
		"96168b','src_port':223,'protocols':['ip','tcp'],"
		"'extensions':{'socket-ext':{'is_listening':true,"
		"'address_family':'AF_INET','socket_type':'SOCK_STREAM'}}}"},
	{"ipv4-addr--f85034be-e4ad-5153-aa6b-79c450eb25b3", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--f85034be-e4ad-5153-aa6"
		"b-79c450eb25b3','value':'198.51.100.5'}"},
	{"ipv4-addr--72073c96-1246-5058-8e5c-6ca59d656dee", true,
		"{'type':'ipv4-addr','spec_version':'2.1','id':'ipv4-addr--72073c96-1246-5058-8e5"
		"c-6ca59d656dee','value':'198.51.100.6'}"},
	{"network-traffic--31c81587-c2fd-55d7-b78a-7296869e319d", false,
		"{'type':'network-traffic','spec_version':'2.1','id':'network-traffic--47b27c77-4"
		"272-563f-91ca-87e2a4afd6ef','src_ref':'ipv4-addr--f85034be-e4ad-5153-aa6b-79c450"
		"eb25b3','dst_ref':'ipv4-addr--72073c96-1246-5058-8e5c-6ca59d656dee',"
		"'src_port':3372,'dst_port':80,'protocols':['tcp'],"
		"'extensions':{'tcp-ext':{'src_flags_hex':'00000002'}}}"},
	{"file--3eb55c0e-fe96-588b-a7ab-10f55f7ec596", true,
		"{'type':'file','spec_version':'2.1','id':'file--3eb55c0e-fe96-588b-a7ab-10f55f7e"
		"c596','name':'gedit-bin','hashes':{'SHA-256':'aec070645fe53ee3b3763059376134f058"
		"cc337247c978add178b6ccdfb0019f'}}"},
	{"file--ca7d6a8a-b79e-5c3b-b736-8d48adcf0c97", true,
		"{'type':'file','spec_version':'2.1','id':'file--ca7d6a8a-b79e-5c3b-b736-8d48adcf"
		"0c97','hashes':{'SHA-256':'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18"
		"c859ee52a9c'},'name':'sirvizio.exe'}"},
	{"software--710b0b41-d4d0-5d6c-a400-fc9254554ffc", true,
		"{'type':'software','spec_version':'2.1','id':'software--710b0b41-d4d0-5d6c-a400-"
		"fc9254554ffc','name':'Word','cpe':'cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*',"
		"'version':'2002','vendor':'Microsoft'}"},
	{"url--47c3cf9a-5027-5bf0-997a-017c7edc7c55", true,
		"{'type':'url','spec_version':'2.1','id':'url--47c3cf9a-5027-5bf0-997a-017c7edc7c"
		"55','value':'https://example.com/research/index.html'}"},
	{"user-account--f94d689e-707d-58c3-b803-c720bb6ed096", true,
		"{'type':'user-account','spec_version':'2.1','id':'user-account--f94d689e-707d-58"
		"c3-b803-c720bb6ed096','user_id':'1001','account_login':'jdoe',"
		"'account_type':'unix','display_name':'John Doe',"
		"'is_service_account':false,'is_privileged':false,"
		"'can_escalate_privs':true,'account_created':'2016-01-20T12:31:12Z',"
		"'credential_last_changed':'2016-01-20T14:27:43Z',"
		"'account_first_login':'2016-01-20T14:26:07Z','account_last_login':'2016-07-22T16"
		":08:28Z'}"},
	{"user-account--f223e803-846b-591a-aefa-545e938f8a56", true,
		"{'type':'user-account','spec_version':'2.1','id':'user-account--f223e803-846b-59"
		"1a-aefa-545e938f8a56','user_id':'thegrugq_ebooks',"
		"'account_login':'thegrugq_ebooks','account_type':'twitter',"
		"'display_name':'the grugq'}"},
	{"windows-registry-key--1884b770-b679-522a-a9c7-45fadaaec7bb", true,
		"{'type':'windows-registry-key','spec_version':'2.1',"
		"'id':'windows-registry-key--1884b770-b679-522a-a9c7-45fadaaec7bb',"
		"'key':'HKEY_LOCAL_MACHINE\\\\System\\\\Foo\\\\Bar'}"},
	{"windows-registry-key--f6a11ddf-fa2b-54c8-97ab-e7f28413095a", true,
		"{'type':'windows-registry-key','spec_version':'2.1',"
		"'id':'windows-registry-key--f6a11ddf-fa2b-54c8-97ab-e7f28413095a',"
		"'key':'hkey_local_machine\\\\system\\\\bar\\\\foo',"
		"'values':[{'name':'Foo','data':'qwerty','data_type':'REG_SZ'},"
		"{'name':'Bar','data':'42','data_type':'REG_DWORD'}]}"},
	{"x509-certificate--bf86f034-2390-54d7-8426-d08433db3fbe", true,
		"{'type':'x509-certificate','spec_version':'2.1',"
		"'id':'x509-certificate--bf86f034-2390-54d7-8426-d08433db3fbe',"
		"'issuer':'C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc,"
		" OU=Certification Services Division, CN=Thawte Server CA/emailAddress=server-cer"
		"ts@thawte.com','validity_not_before':'2016-03-12T12:00:00Z',"
		"'validity_not_after':'2016-08-21T12:00:00Z','subject':'C=US,"
		" ST=Maryland, L=Pasadena, O=Brent Baccala, OU=FreeSoft,"
		" CN=www.freesoft.org/emailAddress=baccala@freesoft.org',"
		"'serial_number':'36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06'}"},
	{"x509-certificate--5adb038a-160d-5d1c-826e-bde4926a0d2d", true,
		"{'type':'x509-certificate','spec_version':'2.1',"
		"'id':'x509-certificate--5adb038a-160d-5d1c-826e-bde4926a0d2d',"
		"'issuer':'C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc,"
		" OU=Certification Services Division, CN=Thawte Server CA/emailAddress=server-cer"
		"ts@thawte.com','validity_not_before':'2016-03-12T12:00:00Z',"
		"'validity_not_after':'2016-08-21T12:00:00Z','subject':'C=US,"
		" ST=Maryland, L=Pasadena, O=Brent Baccala, OU=FreeSoft,"
		" CN=www.freesoft.org/emailAddress=baccala@freesoft.org',"
		"'serial_number':'02:08:87:83:f2:13:58:1f:79:52:1e:66:90:0a:02:24:c9:6b:c7:dc',"
		"'x509_v3_extensions':{'basic_constraints':'critical,"
		"CA:TRUE, pathlen:0','name_constraints':'permitted;IP:192.168.0.0/255.255.0.0',"
		"'policy_constraints':'requireExplicitPolicy:3','key_usage':'critical,"
		" keyCertSign','extended_key_usage':'critical,codeSigning,"
		"1.2.3.4','subject_key_identifier':'hash','authority_key_identifier':'keyid,"
		"issuer','subject_alternative_name':'email:my@other.address,"
		"RID:1.2.3.4','issuer_alternative_name':'issuer:copy',"
		"'crl_distribution_points':'URI:http://myhost.com/myca.crl',"
		"'inhibit_any_policy':'2','private_key_usage_period_not_before':'2016-03-12T12:00"
		":00Z','private_key_usage_period_not_after':'2018-03-12T12:00:00Z',"
		"'certificate_policies':'1.2.4.5, 1.1.3.4'}}"},
};

static void spec_example_ids(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(spec_cases); i++) {
		const struct spec_case *c = &spec_cases[i];
		json_t *j = sco_parse(c->json);
		const char *stated = json_string_value(json_object_get(j, "id"));
		char id[CP_STIX_ID_MAX];

		assert_int_equal(cp_stix_sco_id(j, id), CP_OK);
		if (strcmp(id, c->computed) != 0)
			fail_msg("spec example %s: computed %s, python says %s", stated, id,
				 c->computed);
		if ((strcmp(stated, id) == 0) != c->spec_agrees)
			fail_msg("spec example %s: expected the spec id to %s", stated,
				 c->spec_agrees ? "agree" : "differ");
		json_decref(j);
	}
}

static void all_types_are_scos(void **state)
{
	static const char *const types[] = {
		"artifact", "autonomous-system", "directory", "domain-name", "email-addr",
		"email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
		"network-traffic", "process", "software", "url", "user-account",
		"windows-registry-key", "x509-certificate"};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(types); i++)
		assert_int_equal(cp_stix_kind_of(types[i]), CP_STIX_SCO);
	assert_int_equal(cp_stix_kind_of("ntfs-ext"), CP_STIX_CUSTOM);
}

/* ------------------------------------------------------------------ rules */

/*
 * One object per case, validated with CP_STIX_NO_SCO_ID (the ids are random); the
 * case expects exactly `count` findings, one of them sev/code at ptr, or none.
 */
struct rule_case {
	const char *name;
	enum cp_severity sev;
	const char *code;
	const char *ptr;
	size_t count;
	const char *json;
};

#define U4 "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
/* the type and id members of an object of type t */
#define T(t) "'type':'" t "','id':'" t "--" U4 "'"
/* a reference to an object of type t */
#define REF(t) "'" t "--" U4 "'"
#define OK(name, json) {name, CP_SEV_ERROR, NULL, NULL, 0, json}
#define ERR(name, code, ptr, json) {name, CP_SEV_ERROR, code, ptr, 1, json}
#define ERRN(name, code, ptr, n, json) {name, CP_SEV_ERROR, code, ptr, n, json}
#define WARN(name, code, ptr, json) {name, CP_SEV_WARNING, code, ptr, 1, json}

#define FILE_EXT(ext) "{" T("file") ",'name':'a.bin','extensions':{" ext "}}"
#define PE(body) FILE_EXT("'windows-pebinary-ext':{" body "}")
#define NTP(protocols, props)                                                               \
	"{" T("network-traffic") ",'src_ref':" REF("ipv4-addr") ",'src_port':1,'protocols':"     \
	protocols props "}"
#define NT(props) NTP("['tcp']", props)
#define NT_EXT(ext) NT(",'extensions':{" ext "}")
#define PROC_EXT(ext) "{" T("process") ",'extensions':{" ext "}}"
#define UA_EXT(ext) "{" T("user-account") ",'user_id':'0','extensions':{" ext "}}"

static const struct rule_case rule_cases[] = {
	/* artifact */
	OK("artifact url with hashes",
	   "{" T("artifact") ",'url':'https://example.com/x.bin','hashes':{'MD5':"
	   "'d41d8cd98f00b204e9800998ecf8427e'}}"),
	ERR("artifact without payload_bin and url", "missing-property", "",
	    "{" T("artifact") ",'mime_type':'application/zip'}"),
	ERR("artifact with payload_bin and url", "property-not-allowed", "/url",
	    "{" T("artifact") ",'payload_bin':'AAAA','url':'https://example.com/x','hashes':"
	    "{'MD5':'d41d8cd98f00b204e9800998ecf8427e'}}"),
	ERR("artifact url without hashes", "missing-property", "/hashes",
	    "{" T("artifact") ",'url':'https://example.com/x.bin'}"),
	ERR("artifact decryption_key without encryption_algorithm", "property-not-allowed",
	    "/decryption_key", "{" T("artifact") ",'payload_bin':'AAAA','decryption_key':'k'}"),
	ERR("artifact encryption_algorithm enum", "enum-value", "/encryption_algorithm",
	    "{" T("artifact") ",'payload_bin':'AAAA','encryption_algorithm':'ROT13'}"),
	ERR("artifact payload_bin base64", "binary-format", "/payload_bin",
	    "{" T("artifact") ",'payload_bin':'VBORw0KGgo== ...'}"),
	ERR("artifact url is a URL", "url-format", "/url",
	    "{" T("artifact") ",'url':'example.com/x.bin','hashes':{'MD5':"
	    "'d41d8cd98f00b204e9800998ecf8427e'}}"),
	WARN("artifact mime_type form", "mime-type-format", "/mime_type",
	     "{" T("artifact") ",'payload_bin':'AAAA','mime_type':'zip archive'}"),

	/* autonomous-system */
	ERR("autonomous-system number required", "missing-property", "/number",
	    "{" T("autonomous-system") ",'name':'Slime Industries'}"),
	ERR("autonomous-system number is an integer", "type-mismatch", "/number",
	    "{" T("autonomous-system") ",'number':'15139'}"),
	ERR("autonomous-system number is not a float", "type-mismatch", "/number",
	    "{" T("autonomous-system") ",'number':15139.5}"),
	ERR("autonomous-system number fits 54 bits", "out-of-range", "/number",
	    "{" T("autonomous-system") ",'number':9007199254740992}"),

	/* directory */
	ERR("directory path required", "missing-property", "/path",
	    "{" T("directory") ",'path_enc':'UTF-8'}"),
	ERR("directory contains_refs file or directory", "ref-type", "/contains_refs/1",
	    "{" T("directory") ",'path':'/tmp','contains_refs':[" REF("file") ","
	    REF("ipv4-addr") "]}"),
	ERR("directory ctime timestamp", "timestamp-format", "/ctime",
	    "{" T("directory") ",'path':'/tmp','ctime':'2020-01-01 00:00:00'}"),

	/* domain-name */
	OK("domain-name with trailing dot, service label and IDN",
	   "[{" T("domain-name") ",'value':'_dmarc.example.com.'},{'type':'domain-name',"
	   "'id':'domain-name--1e4ffad7-0b88-41d4-ba4d-77d27490b956','value':"
	   "'b\\u00fccher.example'}]"),
	ERR("domain-name value required", "missing-property", "/value",
	    "{" T("domain-name") ",'resolves_to_refs':[" REF("ipv4-addr") "]}"),
	WARN("domain-name value with a space", "domain-name-format", "/value",
	     "{" T("domain-name") ",'value':'example .com'}"),
	WARN("domain-name value with an empty label", "domain-name-format", "/value",
	     "{" T("domain-name") ",'value':'www..example.com'}"),
	WARN("domain-name label longer than 63", "domain-name-format", "/value",
	     "{" T("domain-name") ",'value':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaa.com'}"),
	WARN("domain-name label ends with a hyphen", "domain-name-format", "/value",
	     "{" T("domain-name") ",'value':'bad-.example.com'}"),
	ERR("domain-name resolves_to_refs targets", "ref-type", "/resolves_to_refs/0",
	    "{" T("domain-name") ",'value':'example.com','resolves_to_refs':["
	    REF("mac-addr") "]}"),

	/* email-addr */
	ERR("email-addr value required", "missing-property", "/value",
	    "{" T("email-addr") ",'display_name':'John Doe'}"),
	ERR("email-addr value without display name", "email-addr-format", "/value",
	    "{" T("email-addr") ",'value':'John Doe <john@example.com>'}"),
	WARN("email-addr value is an addr-spec", "email-addr-format", "/value",
	     "{" T("email-addr") ",'value':'john.example.com'}"),
	ERR("email-addr belongs_to_ref user-account", "ref-type", "/belongs_to_ref",
	    "{" T("email-addr") ",'value':'john@example.com','belongs_to_ref':"
	    REF("identity") "}"),

	/* email-message */
	OK("email-message multipart",
	   "{" T("email-message") ",'is_multipart':true,'content_type':'multipart/mixed',"
	   "'message_id':'<1@example.com>','received_lines':['from a by b'],'body_multipart':"
	   "[{'content_type':'text/plain; charset=utf-8','content_disposition':'inline',"
	   "'body':'Cats are funny!'},{'content_type':'image/png','body_raw_ref':"
	   REF("artifact") "},{'content_type':'application/zip','body_raw_ref':"
	   REF("file") "}],'raw_email_ref':" REF("artifact") "}"),
	ERR("email-message is_multipart required", "missing-property", "/is_multipart",
	    "{" T("email-message") ",'subject':'hi'}"),
	ERR("email-message multipart body", "property-not-allowed", "/body",
	    "{" T("email-message") ",'is_multipart':true,'body':'hello'}"),
	ERR("email-message non-multipart body_multipart", "property-not-allowed",
	    "/body_multipart",
	    "{" T("email-message") ",'is_multipart':false,'body_multipart':[{'body':'x'}]}"),
	ERR("email-message from_ref email-addr", "ref-type", "/from_ref",
	    "{" T("email-message") ",'is_multipart':false,'from_ref':" REF("user-account") "}"),
	ERR("email-message sender_ref email-addr", "ref-type", "/sender_ref",
	    "{" T("email-message") ",'is_multipart':false,'sender_ref':" REF("identity") "}"),
	ERR("email-message cc_refs email-addr", "ref-type", "/cc_refs/1",
	    "{" T("email-message") ",'is_multipart':false,'cc_refs':[" REF("email-addr") ","
	    REF("url") "]}"),
	ERR("email-message raw_email_ref artifact", "ref-type", "/raw_email_ref",
	    "{" T("email-message") ",'is_multipart':false,'raw_email_ref':" REF("file") "}"),
	ERR("email-message header values are lists", "type-mismatch",
	    "/additional_header_fields/X-Mailer",
	    "{" T("email-message") ",'is_multipart':false,'additional_header_fields':"
	    "{'X-Mailer':'Mutt/1.5.23'}}"),
	ERR("email-message MIME part body or body_raw_ref", "missing-property",
	    "/body_multipart/0",
	    "{" T("email-message") ",'is_multipart':true,'body_multipart':[{'content_type':"
	    "'text/plain'}]}"),
	ERR("email-message MIME part body_raw_ref target", "ref-type",
	    "/body_multipart/1/body_raw_ref",
	    "{" T("email-message") ",'is_multipart':true,'body_multipart':[{'body':'x'},"
	    "{'body_raw_ref':" REF("ipv4-addr") "}]}"),
	WARN("email-message MIME part unknown property", "unknown-property",
	     "/body_multipart/0/content-type",
	     "{" T("email-message") ",'is_multipart':true,'body_multipart':[{'body':'x',"
	     "'content-type':'text/plain'}]}"),

	ERR("email-message subject decoded", "header-encoding", "/subject",
	    "{" T("email-message") ",'is_multipart':false,'subject':"
	    "'=?iso-8859-1?q?this=20is=20some=20text?='}"),
	ERR("email-message header values decoded", "header-encoding",
	    "/additional_header_fields/X-Note/1",
	    "{" T("email-message") ",'is_multipart':false,'additional_header_fields':"
	    "{'X-Note':['plain','=?utf-8?B?SGk=?=']}}"),
	ERR("email-message MIME part headers decoded", "header-encoding",
	    "/body_multipart/0/content_disposition",
	    "{" T("email-message") ",'is_multipart':true,'body_multipart':[{'body_raw_ref':"
	    REF("artifact") ",'content_disposition':'attachment; filename=\\\"=?utf-8?B?"
	    "YS56aXA=?=\\\"'}]}"),
	OK("email-message text resembling an encoded-word",
	   "{" T("email-message") ",'is_multipart':false,'subject':'a=?b?c =?x?Q?y z?=',"
	   "'content_type':'text/plain; charset=utf-8'}"),

	/* file */
	ERR("file hashes or name", "missing-property", "",
	    "{" T("file") ",'size':10}"),
	ERR("file size not negative", "out-of-range", "/size",
	    "{" T("file") ",'name':'a','size':-1}"),
	ERR("file parent_directory_ref directory", "ref-type", "/parent_directory_ref",
	    "{" T("file") ",'name':'a','parent_directory_ref':" REF("file") "}"),
	ERR("file content_ref artifact", "ref-type", "/content_ref",
	    "{" T("file") ",'name':'a','content_ref':" REF("file") "}"),
	ERR("file contains_refs SCOs", "ref-type", "/contains_refs/0",
	    "{" T("file") ",'name':'a','contains_refs':[" REF("malware") "]}"),
	ERR("file magic_number_hex", "hex-format", "/magic_number_hex",
	    "{" T("file") ",'name':'a','magic_number_hex':'MZ'}"),
	ERR("file hash value", "hash-value", "/hashes/MD5",
	    "{" T("file") ",'hashes':{'MD5':'1234'}}"),
	WARN("file mime_type form", "mime-type-format", "/mime_type",
	     "{" T("file") ",'name':'a','mime_type':'application'}"),
	ERR("file is not an SDO", "property-not-allowed", "/created",
	    "{" T("file") ",'name':'a','created':'2020-01-01T00:00:00.000Z'}"),
	OK("ipv4-addr refs are not deprecated",
	   "{" T("ipv4-addr") ",'value':'10.0.0.1','resolves_to_refs':[" REF("mac-addr") "],"
	   "'belongs_to_refs':[" REF("autonomous-system") "]}"),

	/* file extensions */
	ERR("archive-ext contains_refs required", "missing-property",
	    "/extensions/archive-ext/contains_refs", FILE_EXT("'archive-ext':{'comment':'c'}")),
	ERR("archive-ext contains_refs targets", "ref-type",
	    "/extensions/archive-ext/contains_refs/0",
	    FILE_EXT("'archive-ext':{'contains_refs':[" REF("ipv4-addr") "]}")),
	ERR("ntfs-ext sid is a string", "type-mismatch", "/extensions/ntfs-ext/sid",
	    FILE_EXT("'ntfs-ext':{'sid':5}")),
	WARN("ntfs-ext unknown property", "unknown-property", "/extensions/ntfs-ext/sidd",
	     FILE_EXT("'ntfs-ext':{'sid':'S-1-5','sidd':'x'}")),
	ERR("ntfs-ext at least one property", "missing-property", "/extensions/ntfs-ext",
	    FILE_EXT("'ntfs-ext':{'x_note':'custom only'}")),
	ERR("ntfs-ext stream name required", "missing-property",
	    "/extensions/ntfs-ext/alternate_data_streams/0/name",
	    FILE_EXT("'ntfs-ext':{'alternate_data_streams':[{'size':1}]}")),
	ERR("ntfs-ext stream size", "out-of-range",
	    "/extensions/ntfs-ext/alternate_data_streams/0/size",
	    FILE_EXT("'ntfs-ext':{'alternate_data_streams':[{'name':'s','size':-5}]}")),
	WARN("ntfs-ext stream unknown property", "unknown-property",
	     "/extensions/ntfs-ext/alternate_data_streams/0/hash",
	     FILE_EXT("'ntfs-ext':{'alternate_data_streams':[{'name':'s','hash':'x'}]}")),
	OK("pdf-ext", FILE_EXT("'pdf-ext':{'version':'1.7','is_optimized':false,"
			       "'document_info_dict':{'Title':'Sample'},'pdfid0':'DFCE52BD',"
			       "'pdfid1':'57A1E0F9'}")),
	ERR("pdf-ext document_info_dict values are strings", "type-mismatch",
	    "/extensions/pdf-ext/document_info_dict/Pages",
	    FILE_EXT("'pdf-ext':{'document_info_dict':{'Title':'x','Pages':3}}")),
	ERR("pdf-ext at least one property", "missing-property", "/extensions/pdf-ext",
	    FILE_EXT("'pdf-ext':{'x_a':1}")),
	OK("raster-image-ext", FILE_EXT("'raster-image-ext':{'image_height':768,"
					"'image_width':1024,'bits_per_pixel':24,'exif_tags':"
					"{'Make':'Nikon','XResolution':4928}}")),
	ERR("raster-image-ext exif values", "type-mismatch",
	    "/extensions/raster-image-ext/exif_tags/Flash",
	    FILE_EXT("'raster-image-ext':{'exif_tags':{'Flash':true}}")),
	ERR("raster-image-ext image_width integer", "type-mismatch",
	    "/extensions/raster-image-ext/image_width",
	    FILE_EXT("'raster-image-ext':{'image_width':'1024'}")),
	OK("windows-pebinary-ext",
	   PE("'pe_type':'exe','imphash':'x','machine_hex':'014c','number_of_sections':4,"
	      "'time_date_stamp':'2016-01-22T12:31:12Z','pointer_to_symbol_table_hex':'74726144',"
	      "'number_of_symbols':4542568,'size_of_optional_header':224,"
	      "'characteristics_hex':'818f','file_header_hashes':{'MD5':"
	      "'d41d8cd98f00b204e9800998ecf8427e'},'optional_header':{'magic_hex':'010b',"
	      "'size_of_code':512,'address_of_entry_point':4096,'checksum_hex':'00',"
	      "'number_of_rva_and_sizes':3758087646},'sections':[{'name':'CODE',"
	      "'entropy':0.061089,'size':512},{'name':'DATA','entropy':8}]")),
	ERR("windows-pebinary-ext pe_type required", "missing-property",
	    "/extensions/windows-pebinary-ext/pe_type", PE("'imphash':'x'")),
	ERR("windows-pebinary-ext more than pe_type", "missing-property",
	    "/extensions/windows-pebinary-ext", PE("'pe_type':'dll'")),
	WARN("windows-pebinary-ext pe_type vocabulary", "vocab-value",
	     "/extensions/windows-pebinary-ext/pe_type", PE("'pe_type':'com','imphash':'x'")),
	ERR("windows-pebinary-ext time_date_stamp precision", "timestamp-precision",
	    "/extensions/windows-pebinary-ext/time_date_stamp",
	    PE("'pe_type':'exe','time_date_stamp':'2016-01-22T12:31:12.5Z'")),
	ERR("windows-pebinary-ext number_of_sections", "out-of-range",
	    "/extensions/windows-pebinary-ext/number_of_sections",
	    PE("'pe_type':'exe','number_of_sections':-4")),
	ERR("windows-pebinary-ext optional_header not empty", "missing-property",
	    "/extensions/windows-pebinary-ext/optional_header",
	    PE("'pe_type':'exe','optional_header':{'x_y':1}")),
	ERR("windows-pebinary-ext optional_header sizes", "out-of-range",
	    "/extensions/windows-pebinary-ext/optional_header/size_of_code",
	    PE("'pe_type':'exe','optional_header':{'size_of_code':-1}")),
	ERR("windows-pebinary-ext optional_header hex", "hex-format",
	    "/extensions/windows-pebinary-ext/optional_header/magic_hex",
	    PE("'pe_type':'exe','optional_header':{'magic_hex':'0x10b'}")),
	WARN("windows-pebinary-ext optional_header unknown property", "unknown-property",
	     "/extensions/windows-pebinary-ext/optional_header/size_of_cod",
	     PE("'pe_type':'exe','optional_header':{'size_of_code':1,'size_of_cod':1}")),
	ERR("windows-pebinary-ext section name", "missing-property",
	    "/extensions/windows-pebinary-ext/sections/1/name",
	    PE("'pe_type':'exe','sections':[{'name':'a'},{'entropy':1.5}]")),
	ERR("windows-pebinary-ext section entropy", "out-of-range",
	    "/extensions/windows-pebinary-ext/sections/0/entropy",
	    PE("'pe_type':'exe','sections':[{'name':'a','entropy':8.5}]")),
	ERR("windows-pebinary-ext sections not empty", "empty-list",
	    "/extensions/windows-pebinary-ext/sections", PE("'pe_type':'exe','sections':[]")),
	WARN("file extension of another type", "custom-extension", "/extensions/tcp-ext",
	     FILE_EXT("'tcp-ext':{'src_flags_hex':'02'}")),
	WARN("file custom extension", "custom-extension", "/extensions/x-acme-ext",
	     FILE_EXT("'x-acme-ext':{'rating':3}")),

	/* ipv4-addr, ipv6-addr */
	OK("ipv4-addr single", "{" T("ipv4-addr") ",'value':'198.51.100.3'}"),
	OK("ipv4-addr /0 and /32",
	   "[{" T("ipv4-addr") ",'value':'0.0.0.0/0'},{'type':'ipv4-addr','id':'ipv4-addr--"
	   "1e4ffad7-0b88-41d4-ba4d-77d27490b956','value':'10.0.0.1/32'}]"),
	ERR("ipv4-addr value required", "missing-property", "/value", "{" T("ipv4-addr") "}"),
	ERR("ipv4-addr octet range", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'256.1.1.1'}"),
	ERR("ipv4-addr prefix range", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'10.0.0.0/33'}"),
	ERR("ipv4-addr empty prefix", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'10.0.0.0/'}"),
	ERR("ipv4-addr prefix leading zero", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'10.0.0.0/08'}"),
	ERR("ipv4-addr octal-looking octet", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'010.0.0.1'}"),
	ERR("ipv4-addr three octets", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'10.0.1'}"),
	ERR("ipv4-addr not IPv6", "ip-address-format", "/value",
	    "{" T("ipv4-addr") ",'value':'2001:db8::1'}"),
	ERR("ipv4-addr resolves_to_refs mac-addr", "ref-type", "/resolves_to_refs/0",
	    "{" T("ipv4-addr") ",'value':'10.0.0.1','resolves_to_refs':[" REF("domain-name") "]}"),
	ERR("ipv4-addr belongs_to_refs autonomous-system", "ref-type", "/belongs_to_refs/0",
	    "{" T("ipv4-addr") ",'value':'10.0.0.1','belongs_to_refs':[" REF("identity") "]}"),
	OK("ipv6-addr forms",
	   "[{" T("ipv6-addr") ",'value':'2001:0db8:85a3:0000:0000:8a2e:0370:7334'},{'type':"
	   "'ipv6-addr','id':'ipv6-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956','value':"
	   "'::ffff:192.0.2.1/128'}]"),
	ERR("ipv6-addr value required", "missing-property", "/value", "{" T("ipv6-addr") "}"),
	ERR("ipv6-addr hex digits", "ip-address-format", "/value",
	    "{" T("ipv6-addr") ",'value':'2001:db8::g'}"),
	ERR("ipv6-addr prefix range", "ip-address-format", "/value",
	    "{" T("ipv6-addr") ",'value':'2001:db8::/129'}"),
	ERR("ipv6-addr not IPv4", "ip-address-format", "/value",
	    "{" T("ipv6-addr") ",'value':'192.0.2.1'}"),
	ERR("ipv6-addr belongs_to_refs autonomous-system", "ref-type", "/belongs_to_refs/0",
	    "{" T("ipv6-addr") ",'value':'::1','belongs_to_refs':[" REF("ipv6-addr") "]}"),

	/* mac-addr */
	ERR("mac-addr value required", "missing-property", "/value", "{" T("mac-addr") "}"),
	ERR("mac-addr lowercase", "mac-address-format", "/value",
	    "{" T("mac-addr") ",'value':'00:00:AB:CD:EF:01'}"),
	ERR("mac-addr leading zeros", "mac-address-format", "/value",
	    "{" T("mac-addr") ",'value':'0:0:ab:cd:ef:1'}"),
	ERR("mac-addr colons", "mac-address-format", "/value",
	    "{" T("mac-addr") ",'value':'00-00-ab-cd-ef-01'}"),
	ERR("mac-addr MAC-48", "mac-address-format", "/value",
	    "{" T("mac-addr") ",'value':'00:00:ab:cd:ef:01:02:03'}"),

	/* mutex */
	ERR("mutex name required", "missing-property", "/name", "{" T("mutex") "}"),
	ERR("mutex name string", "type-mismatch", "/name", "{" T("mutex") ",'name':7}"),

	/* network-traffic */
	OK("network-traffic active, one endpoint",
	   "{" T("network-traffic") ",'dst_ref':" REF("mac-addr") ",'dst_port':0,"
	   "'protocols':['ipv4','tcp'],'is_active':true,'start':'2020-01-01T00:00:00Z',"
	   "'src_payload_ref':" REF("artifact") ",'encapsulated_by_ref':"
	   REF("network-traffic") "}"),
	ERR("network-traffic protocols required", "missing-property", "/protocols",
	    "{" T("network-traffic") ",'src_ref':" REF("ipv4-addr") ",'src_port':1}"),
	ERR("network-traffic protocols not empty", "empty-list", "/protocols", NTP("[]", "")),
	ERR("network-traffic src_ref or dst_ref", "missing-property", "",
	    "{" T("network-traffic") ",'src_port':1,'protocols':['tcp']}"),
	ERR("network-traffic src_port range", "out-of-range", "/src_port",
	    "{" T("network-traffic") ",'src_ref':" REF("ipv4-addr") ",'src_port':65536,"
	    "'protocols':['tcp']}"),
	ERR("network-traffic dst_port range", "out-of-range", "/dst_port",
	    NT(",'dst_port':-1")),
	ERR("network-traffic end after start", "time-order", "/end",
	    NT(",'start':'2020-01-01T00:00:01Z','end':'2020-01-01T00:00:00Z'")),
	ERR("network-traffic active has no end", "property-not-allowed", "/end",
	    NT(",'is_active':true,'end':'2020-01-01T00:00:00Z'")),
	ERR("network-traffic byte count", "out-of-range", "/dst_byte_count",
	    NT(",'dst_byte_count':-1")),
	ERR("network-traffic packet count", "out-of-range", "/src_packets",
	    NT(",'src_packets':-3")),
	ERR("network-traffic src_ref endpoints", "ref-type", "/src_ref",
	    "{" T("network-traffic") ",'src_ref':" REF("file") ",'src_port':1,"
	    "'protocols':['tcp']}"),
	ERR("network-traffic dst_payload_ref artifact", "ref-type", "/dst_payload_ref",
	    NT(",'dst_payload_ref':" REF("file"))),
	ERR("network-traffic encapsulates_refs", "ref-type", "/encapsulates_refs/0",
	    NT(",'encapsulates_refs':[" REF("ipv4-addr") "]")),
	ERR("network-traffic ipfix values", "type-mismatch", "/ipfix/flowLabels",
	    NT(",'ipfix':{'flowLabels':[1,2]}")),
	WARN("network-traffic ports", "recommended-property", "",
	     "{" T("network-traffic") ",'src_ref':" REF("ipv4-addr") ",'protocols':['tcp']}"),
	OK("http-request-ext",
	   NTP("['tcp','http']", ",'extensions':{'http-request-ext':{'request_method':"
	      "'get','request_value':'/download.html','request_version':'http/1.1',"
	      "'request_header':{'Host':['www.example.com']},'message_body_length':0,"
	      "'message_body_data_ref':" REF("artifact") "}}")),
	ERR("http-request-ext request_method required", "missing-property",
	    "/extensions/http-request-ext/request_method",
	    NTP("['http']", ",'extensions':{'http-request-ext':{'request_value':'/'}}")),
	ERR("http-request-ext header values are lists", "type-mismatch",
	    "/extensions/http-request-ext/request_header/Host",
	    NTP("['http']", ",'extensions':{'http-request-ext':{'request_method':'get',"
	       "'request_value':'/','request_header':{'Host':'www.example.com'}}}")),
	ERR("http-request-ext body ref artifact", "ref-type",
	    "/extensions/http-request-ext/message_body_data_ref",
	    NTP("['http']", ",'extensions':{'http-request-ext':{'request_method':'get',"
	       "'request_value':'/','message_body_data_ref':" REF("file") "}}")),
	WARN("http-request-ext protocol listed", "extension-protocol", "/protocols",
	     NT_EXT("'http-request-ext':{'request_method':'get','request_value':'/'}")),
	OK("icmp-ext", NTP("['icmp']", ",'extensions':{'icmp-ext':{'icmp_type_hex':"
			  "'08','icmp_code_hex':'00'}}")),
	ERR("icmp-ext code required", "missing-property", "/extensions/icmp-ext/icmp_code_hex",
	    NTP("['icmp']", ",'extensions':{'icmp-ext':{'icmp_type_hex':'08'}}")),
	ERR("icmp-ext type hex", "hex-format", "/extensions/icmp-ext/icmp_type_hex",
	    NTP("['icmp']", ",'extensions':{'icmp-ext':{'icmp_type_hex':'zz',"
	       "'icmp_code_hex':'00'}}")),
	ERR("icmp-ext code is a byte", "out-of-range", "/extensions/icmp-ext/icmp_code_hex",
	    NTP("['icmp']", ",'extensions':{'icmp-ext':{'icmp_type_hex':'03',"
	       "'icmp_code_hex':'0100'}}")),
	OK("socket-ext", NT_EXT("'socket-ext':{'address_family':'AF_INET','is_blocking':false,"
				"'is_listening':true,'options':{'SO_RCVBUF':65536},"
				"'socket_type':'SOCK_STREAM','socket_descriptor':3,"
				"'socket_handle':-1}")),
	ERR("socket-ext address_family required", "missing-property",
	    "/extensions/socket-ext/address_family",
	    NT_EXT("'socket-ext':{'socket_type':'SOCK_STREAM'}")),
	ERR("socket-ext address_family enum", "enum-value",
	    "/extensions/socket-ext/address_family",
	    NT_EXT("'socket-ext':{'address_family':'AF_UNIX'}")),
	ERR("socket-ext socket_type enum", "enum-value", "/extensions/socket-ext/socket_type",
	    NT_EXT("'socket-ext':{'address_family':'AF_INET','socket_type':'SOCK_PACKET'}")),
	ERR("socket-ext options values are integers", "type-mismatch",
	    "/extensions/socket-ext/options/SO_LINGER",
	    NT_EXT("'socket-ext':{'address_family':'AF_INET','options':{'SO_LINGER':'10'}}")),
	ERR("socket-ext socket_descriptor", "out-of-range",
	    "/extensions/socket-ext/socket_descriptor",
	    NT_EXT("'socket-ext':{'address_family':'AF_INET','socket_descriptor':-1}")),
	OK("tcp-ext", NT_EXT("'tcp-ext':{'src_flags_hex':'00000002','dst_flags_hex':'12'}")),
	ERR("tcp-ext at least one property", "missing-property", "/extensions/tcp-ext",
	    NT_EXT("'tcp-ext':{'x_window':1}")),
	ERR("tcp-ext flags hex", "hex-format", "/extensions/tcp-ext/src_flags_hex",
	    NT_EXT("'tcp-ext':{'src_flags_hex':'SYN'}")),
	WARN("network-traffic extension of another type", "custom-extension",
	     "/extensions/windows-process-ext",
	     NT_EXT("'windows-process-ext':{'aslr_enabled':true}")),

	/* process */
	OK("process",
	   "{" T("process") ",'is_hidden':false,'pid':1221,'created_time':"
	   "'2016-01-20T14:11:25.55Z','cwd':'/tmp','command_line':'./gedit-bin --new-window',"
	   "'environment_variables':{'PATH':'/bin'},'opened_connection_refs':["
	   REF("network-traffic") "],'creator_user_ref':" REF("user-account") ","
	   "'image_ref':" REF("file") ",'parent_ref':" REF("process") ",'child_refs':["
	   REF("process") "]}"),
	OK("process with an extension only",
	   PROC_EXT("'windows-process-ext':{'aslr_enabled':true,'dep_enabled':true,"
		    "'priority':'HIGH_PRIORITY_CLASS','owner_sid':'S-1-5-21','windows_title':"
		    "'w','startup_info':{'lpDesktop':'x'},'integrity_level':'high'}")),
	ERR("process at least one property", "missing-property", "", "{" T("process") "}"),
	ERR("process pid not negative", "out-of-range", "/pid",
	    "{" T("process") ",'pid':-1}"),
	ERR("process image_ref file", "ref-type", "/image_ref",
	    "{" T("process") ",'image_ref':" REF("directory") "}"),
	ERR("process parent_ref process", "ref-type", "/parent_ref",
	    "{" T("process") ",'parent_ref':" REF("file") "}"),
	ERR("process child_refs process", "ref-type", "/child_refs/0",
	    "{" T("process") ",'child_refs':[" REF("file") "]}"),
	ERR("process opened_connection_refs network-traffic", "ref-type",
	    "/opened_connection_refs/0",
	    "{" T("process") ",'opened_connection_refs':[" REF("ipv4-addr") "]}"),
	ERR("process creator_user_ref user-account", "ref-type", "/creator_user_ref",
	    "{" T("process") ",'creator_user_ref':" REF("identity") "}"),
	ERR("process environment values are strings", "type-mismatch",
	    "/environment_variables/HOME",
	    "{" T("process") ",'environment_variables':{'HOME':['/root']}}"),
	ERR("windows-process-ext at least one property", "missing-property",
	    "/extensions/windows-process-ext", PROC_EXT("'windows-process-ext':{'x_a':1}")),
	ERR("windows-process-ext integrity_level enum", "enum-value",
	    "/extensions/windows-process-ext/integrity_level",
	    PROC_EXT("'windows-process-ext':{'integrity_level':'untrusted'}")),
	WARN("windows-process-ext priority class", "priority-class",
	     "/extensions/windows-process-ext/priority",
	     PROC_EXT("'windows-process-ext':{'priority':'HIGH'}")),
	OK("windows-service-ext",
	   PROC_EXT("'windows-service-ext':{'service_name':'sirvizio','descriptions':['d'],"
		    "'display_name':'Sirvizio','group_name':'g','start_type':'SERVICE_AUTO_START',"
		    "'service_dll_refs':[" REF("file") "],'service_type':"
		    "'SERVICE_WIN32_OWN_PROCESS','service_status':'SERVICE_RUNNING'}")),
	ERR("windows-service-ext at least one property", "missing-property",
	    "/extensions/windows-service-ext", PROC_EXT("'windows-service-ext':{'x_a':1}")),
	ERR("windows-service-ext start_type enum", "enum-value",
	    "/extensions/windows-service-ext/start_type",
	    PROC_EXT("'windows-service-ext':{'start_type':'AUTO'}")),
	ERR("windows-service-ext service_type enum", "enum-value",
	    "/extensions/windows-service-ext/service_type",
	    PROC_EXT("'windows-service-ext':{'service_type':'SERVICE_USER_OWN_PROCESS'}")),
	ERR("windows-service-ext service_status enum", "enum-value",
	    "/extensions/windows-service-ext/service_status",
	    PROC_EXT("'windows-service-ext':{'service_status':'RUNNING'}")),
	ERR("windows-service-ext service_dll_refs file", "ref-type",
	    "/extensions/windows-service-ext/service_dll_refs/0",
	    PROC_EXT("'windows-service-ext':{'service_dll_refs':[" REF("process") "]}")),

	/* software */
	ERR("software name required", "missing-property", "/name",
	    "{" T("software") ",'vendor':'Microsoft'}"),
	ERR("software cpe 2.3", "cpe-format", "/cpe",
	    "{" T("software") ",'name':'Word','cpe':'cpe:/a:microsoft:word:2000'}"),
	ERR("software cpe field count", "cpe-format", "/cpe",
	    "{" T("software") ",'name':'Word','cpe':'cpe:2.3:a:microsoft:word:2000'}"),
	OK("software cpe escaped colon",
	   "{" T("software") ",'name':'x','cpe':'cpe:2.3:a:acme:a\\\\:b:1.0:*:*:*:*:*:*:*'}"),
	ERR("software languages RFC 5646", "language-tag", "/languages/1",
	    "{" T("software") ",'name':'Word','languages':['en','English (US)']}"),
	ERR("software languages not empty", "empty-list", "/languages",
	    "{" T("software") ",'name':'Word','languages':[]}"),

	/* url */
	ERR("url value required", "missing-property", "/value", "{" T("url") "}"),
	ERR("url scheme", "url-format", "/value",
	    "{" T("url") ",'value':'www.example.com/index.html'}"),
	ERR("url spaces", "url-format", "/value",
	    "{" T("url") ",'value':'http://example.com/a b'}"),
	OK("url other schemes",
	   "[{" T("url") ",'value':'ftp://user@198.51.100.3:21/x;type=i'},{'type':'url','id':"
	   "'url--1e4ffad7-0b88-41d4-ba4d-77d27490b956','value':'mailto:a@example.com'}]"),

	/* user-account */
	ERR("user-account at least one property", "missing-property", "",
	    "{" T("user-account") ",'spec_version':'2.1'}"),
	WARN("user-account account_type vocabulary", "vocab-value", "/account_type",
	     "{" T("user-account") ",'user_id':'x','account_type':'github'}"),
	ERR("user-account timestamps", "timestamp-format", "/account_last_login",
	    "{" T("user-account") ",'user_id':'x','account_last_login':'yesterday'}"),
	ERR("user-account booleans", "type-mismatch", "/is_disabled",
	    "{" T("user-account") ",'user_id':'x','is_disabled':'no'}"),
	ERR("unix-account-ext gid integer", "type-mismatch", "/extensions/unix-account-ext/gid",
	    UA_EXT("'unix-account-ext':{'gid':'1001'}")),
	ERR("unix-account-ext groups not empty", "empty-list",
	    "/extensions/unix-account-ext/groups", UA_EXT("'unix-account-ext':{'groups':[]}")),
	ERR("unix-account-ext at least one property", "missing-property",
	    "/extensions/unix-account-ext", UA_EXT("'unix-account-ext':{'x_uid':0}")),
	WARN("user-account extension of another type", "custom-extension",
	     "/extensions/ntfs-ext", UA_EXT("'ntfs-ext':{'sid':'S-1'}")),

	/* windows-registry-key */
	ERR("windows-registry-key at least one property", "missing-property", "",
	    "{" T("windows-registry-key") "}"),
	ERR("windows-registry-key hive expanded", "registry-hive", "/key",
	    "{" T("windows-registry-key") ",'key':'HKLM\\\\Software\\\\mthjk'}"),
	ERR("windows-registry-key hive expanded (lowercase)", "registry-hive", "/key",
	    "{" T("windows-registry-key") ",'key':'hkcu\\\\Software'}"),
	OK("windows-registry-key other paths",
	   "{" T("windows-registry-key") ",'key':'hkey_local_machine\\\\system\\\\bar'}"),
	ERR("windows-registry-key data_type enum", "enum-value", "/values/0/data_type",
	    "{" T("windows-registry-key") ",'values':[{'name':'a','data_type':'REG_STRING'}]}"),
	ERR("windows-registry-key value not empty", "missing-property", "/values/1",
	    "{" T("windows-registry-key") ",'values':[{'name':''},{'x_note':'n'}]}"),
	WARN("windows-registry-key value unknown property", "unknown-property",
	     "/values/0/type",
	     "{" T("windows-registry-key") ",'values':[{'name':'a','type':'REG_SZ'}]}"),
	ERR("windows-registry-key values not empty", "empty-list", "/values",
	    "{" T("windows-registry-key") ",'key':'HKEY_USERS','values':[]}"),
	ERR("windows-registry-key creator_user_ref", "ref-type", "/creator_user_ref",
	    "{" T("windows-registry-key") ",'key':'HKEY_USERS','creator_user_ref':"
	    REF("identity") "}"),
	ERR("windows-registry-key number_of_subkeys", "type-mismatch", "/number_of_subkeys",
	    "{" T("windows-registry-key") ",'key':'HKEY_USERS','number_of_subkeys':'2'}"),

	/* x509-certificate */
	ERR("x509-certificate at least one property", "missing-property", "",
	    "{" T("x509-certificate") ",'defanged':false}"),
	WARN("x509-certificate validity order", "time-order", "/validity_not_after",
	     "{" T("x509-certificate") ",'validity_not_before':'2016-08-21T12:00:00Z',"
	     "'validity_not_after':'2016-03-12T12:00:00Z'}"),
	ERR("x509-certificate version string", "type-mismatch", "/version",
	    "{" T("x509-certificate") ",'version':3}"),
	ERR("x509-certificate exponent integer", "type-mismatch",
	    "/subject_public_key_exponent",
	    "{" T("x509-certificate") ",'subject_public_key_exponent':'65537'}"),
	ERR("x509-certificate v3 extensions not empty", "missing-property",
	    "/x509_v3_extensions",
	    "{" T("x509-certificate") ",'serial_number':'1','x509_v3_extensions':{'x_a':1}}"),
	ERR("x509-certificate v3 extensions timestamps", "timestamp-format",
	    "/x509_v3_extensions/private_key_usage_period_not_before",
	    "{" T("x509-certificate") ",'x509_v3_extensions':{"
	    "'private_key_usage_period_not_before':'2016'}}"),
	WARN("x509-certificate v3 extensions key usage period", "time-order",
	     "/x509_v3_extensions/private_key_usage_period_not_after",
	     "{" T("x509-certificate") ",'x509_v3_extensions':{"
	     "'private_key_usage_period_not_before':'2018-03-12T12:00:00Z',"
	     "'private_key_usage_period_not_after':'2016-03-12T12:00:00Z'}}"),
	WARN("x509-certificate v3 extensions unknown property", "unknown-property",
	     "/x509_v3_extensions/subject_alt_name",
	     "{" T("x509-certificate") ",'x509_v3_extensions':{'key_usage':'critical',"
	     "'subject_alt_name':'x'}}"),
	ERR("x509-certificate v3 extensions is an object", "type-mismatch",
	    "/x509_v3_extensions", "{" T("x509-certificate") ",'x509_v3_extensions':'x'}"),
};

static void run_rule_case(void **state)
{
	const struct rule_case *c = *state;
	struct cp_diag d;

	sco_validate(c->json, CP_STIX_NO_SCO_ID, &d);
	if (!c->code) {
		assert_clean(&d);
	} else {
		assert_finding(&d, c->sev, c->code, c->ptr);
		if (d.count != c->count) {
			tu_dump(&d);
			fail_msg("expected %zu finding(s), got %zu", c->count, d.count);
		}
	}
	cp_diag_release(&d);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(ids_match_python),
		cmocka_unit_test(ids_not_found),
		cmocka_unit_test(wrong_id_warns),
		cmocka_unit_test(spec_example_ids),
		cmocka_unit_test(all_types_are_scos),
	};
	size_t n = ARRAY_LEN(fixed) + ARRAY_LEN(rule_cases);
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int rc;

	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < ARRAY_LEN(rule_cases); i++) {
		struct CMUnitTest *t = &tests[ARRAY_LEN(fixed) + i];
		t->name = rule_cases[i].name;
		t->test_func = run_rule_case;
		t->initial_state = (void *)(uintptr_t)&rule_cases[i];
	}
	rc = _cmocka_run_group_tests("stix_sco", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
