#!/bin/sh
# CLI contract of `cyberpact`: exit statuses, the line formats of `validate`, stdin,
# --strict, --json, --quiet, --help and --version, and a pass over the shared sample
# data (every file must give 0 or 1, never 2 or a crash).
#
# usage: test_cli.sh PATH/TO/cyberpact      (env CP_SHARED_DATA: the shared data dir)
set -u

CP=${1:?usage: test_cli.sh PATH/TO/cyberpact}
DATA=${CP_SHARED_DATA:-}
passed=0
failed=0

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

ok() {
	passed=$((passed + 1))
}

bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
	if [ -s "$tmp/out" ]; then
		echo "  stdout:"
		sed 's/^/    /' "$tmp/out" | head -20
	fi
	if [ -s "$tmp/err" ]; then
		echo "  stderr:"
		sed 's/^/    /' "$tmp/err" | head -20
	fi
}

# run ARGS...: runs cyberpact, output in $tmp/out and $tmp/err, status in $rc
run() {
	"$CP" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# run_stdin FILE ARGS...: same, with FILE on standard input
run_stdin() {
	in=$1
	shift
	"$CP" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

expect_rc() { # WANT LABEL
	if [ "$rc" -eq "$1" ]; then ok; else bad "$2: exit status $rc, expected $1"; fi
}

# expect_line FILE REGEX LABEL: some line of FILE matches the extended regex
expect_line() {
	if grep -Eq -- "$2" "$1"; then ok; else bad "$3: no line matches /$2/"; fi
}

expect_no_line() {
	if grep -Eq -- "$2" "$1"; then bad "$3: unexpected line matching /$2/"; else ok; fi
}

# ------------------------------------------------------------------ fixtures

ind='"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '"'"'198.51.100.3'"'"']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"'
bundle_head='{"type":"bundle","id":"bundle--c6d1ec1e-2a3b-4e4c-9a2d-5bb1b3a5d0f3","objects":['

valid="$tmp/valid.json"
printf '%s{%s}]}\n' "$bundle_head" "$ind" >"$valid"

# valid_until before valid_from: an error at /objects/0/valid_until
invalid="$tmp/invalid.json"
printf '%s{%s,"valid_until":"2015-01-01T00:00:00Z"}]}\n' "$bundle_head" "$ind" >"$invalid"

# only a warning: an unknown non-x_ property
warn="$tmp/warn.json"
printf '%s{%s,"toxicity":"high"}]}\n' "$bundle_head" "$ind" >"$warn"

# JSON syntax error on line 3
syntax="$tmp/syntax.json"
printf '{\n  "type": "bundle",\n  "id": ,\n}\n' >"$syntax"

mkdir "$tmp/adir"

# ------------------------------------------------------------- exit statuses

run validate "$valid"
expect_rc 0 "valid file"
expect_line "$tmp/out" "^$valid: valid: 1 object, 0 errors, 0 warnings\$" "valid summary"

run validate "$invalid"
expect_rc 1 "invalid file"

run validate "$tmp/does-not-exist.json"
expect_rc 2 "missing file"
expect_line "$tmp/err" "cannot read '$tmp/does-not-exist.json'" "missing file message"

run validate "$tmp/adir"
expect_rc 2 "directory"

run validate
expect_rc 2 "validate without files"

run validate --no-such-option "$valid"
expect_rc 2 "unknown option"

run no-such-command
expect_rc 2 "unknown command"
expect_line "$tmp/err" "'no-such-command' is not a command" "unknown command message"

run
expect_rc 2 "no command"

# the worst status wins across files
run validate "$valid" "$invalid"
expect_rc 1 "valid + invalid"
run validate "$valid" "$invalid" "$tmp/does-not-exist.json"
expect_rc 2 "valid + invalid + missing"
expect_line "$tmp/out" "^3 files checked: 1 valid, 1 invalid, 1 unreadable\$" "multi-file summary"

# ------------------------------------------------------------- line formats

run validate "$invalid"
expect_line "$tmp/out" "^$invalid: /objects/0/valid_until: error \[time-order\]: .+" \
	"pointer line format"
expect_line "$tmp/out" "^$invalid: invalid: 1 object, 1 error, 0 warnings\$" "invalid summary"

run validate "$syntax"
expect_rc 1 "JSON syntax error"
expect_line "$tmp/out" "^$syntax:3:[0-9]+: error \[json-syntax\]: .+" "line:column format"

run validate "$warn"
expect_rc 0 "warning-only file"
expect_line "$tmp/out" "^$warn: /objects/0/toxicity: warning \[unknown-property\]: .+" \
	"warning line format"
expect_line "$tmp/out" "^$warn: valid: 1 object, 0 errors, 1 warning\$" "warning summary"

# ------------------------------------------------------------------- stdin

run_stdin "$invalid" validate -
expect_rc 1 "stdin invalid"
expect_line "$tmp/out" "^<stdin>: /objects/0/valid_until: error \[time-order\]: " "stdin label"
run_stdin "$valid" validate -
expect_rc 0 "stdin valid"
expect_line "$tmp/out" "^<stdin>: valid: " "stdin summary"

# ------------------------------------------------------------------ --strict

run validate --strict "$warn"
expect_rc 1 "--strict on warnings"
expect_line "$tmp/out" "^$warn: /objects/0/toxicity: error \[unknown-property\]: " \
	"--strict reports warnings as errors"
run validate --strict "$valid"
expect_rc 0 "--strict on a clean file"

# -------------------------------------------------------------------- --json

if command -v python3 >/dev/null 2>&1; then
	run validate --json "$invalid" "$warn" "$syntax"
	expect_rc 1 "--json status"
	if python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert doc["checked"] == 3 and doc["invalid"] == 2 and doc["unreadable"] == 0, doc
files = doc["files"]
assert [f["valid"] for f in files] == [False, True, False], files
inv, warn, syn = files
for f in files:
    for key in ("file", "readable", "valid", "objects", "errors", "warnings", "findings"):
        assert key in f, (key, f)
    for x in f["findings"]:
        for key in ("severity", "code", "pointer", "message"):
            assert key in x, (key, x)
assert inv["errors"] == 1 and inv["objects"] == 1
assert inv["findings"][0]["code"] == "time-order"
assert inv["findings"][0]["pointer"] == "/objects/0/valid_until"
assert warn["warnings"] == 1 and warn["findings"][0]["severity"] == "warning"
assert syn["findings"][0]["code"] == "json-syntax" and syn["findings"][0]["line"] == 3
' <"$tmp/out" 2>"$tmp/err"; then ok; else bad "--json output"; fi

	run validate --json "$tmp/does-not-exist.json"
	expect_rc 2 "--json missing file"
	if python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert doc["unreadable"] == 1 and doc["files"][0]["readable"] is False, doc
' <"$tmp/out" 2>"$tmp/err"; then ok; else bad "--json missing file output"; fi
else
	echo "note: python3 not found; --json output not parsed"
	run validate --json "$invalid"
	expect_rc 1 "--json status"
	expect_line "$tmp/out" '"findings"' "--json has findings"
fi

# ------------------------------------------------------------------- --quiet

run validate --quiet "$invalid" "$warn"
expect_rc 1 "--quiet status"
expect_no_line "$tmp/out" "\[(time-order|unknown-property)\]" "--quiet hides findings"
expect_line "$tmp/out" "^$invalid: invalid: 1 object, 1 error, 0 warnings\$" "--quiet summary"
expect_line "$tmp/out" "^$warn: valid: 1 object, 0 errors, 1 warning\$" "--quiet summary 2"
run validate -q "$invalid"
expect_rc 1 "-q"
if [ "$(wc -l <"$tmp/out")" -eq 1 ]; then ok; else bad "-q prints one line per file"; fi

# ------------------------------------------------------------ help, version

run --help
expect_rc 0 "--help"
expect_line "$tmp/out" "^usage: cyberpact" "--help text"
expect_line "$tmp/out" "validate" "--help lists validate"
run validate --help
expect_rc 0 "validate --help"
expect_line "$tmp/out" "^usage: cyberpact validate" "validate --help text"
run help validate
expect_rc 0 "help validate"
expect_line "$tmp/out" "^usage: cyberpact validate" "help validate text"
run --version
expect_rc 0 "--version"
expect_line "$tmp/out" "^cyberpact [0-9]+\.[0-9]+\.[0-9]+" "--version text"

# ------------------------------------------------------------ sample data

if [ -n "$DATA" ] && [ -d "$DATA/stix21" ]; then
	n=0
	for f in "$DATA"/stix21/*/*.json; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		run validate --quiet "$f"
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
			ok
		elif [ "$rc" -ge 128 ]; then
			bad "$f: crashed (status $rc)"
		else
			bad "$f: exit status $rc (expected 0 or 1)"
		fi
	done
	if [ "$n" -gt 0 ]; then ok; else bad "no sample files under $DATA/stix21"; fi
else
	echo "note: CP_SHARED_DATA not set or without stix21/; sample data pass skipped"
fi

# ------------------------------------------------------------------- audit
#
# The trail is written here by a second implementation of docs/AUDIT.md (Python), so
# that `audit verify` accepting it shows the document is enough to build a verifier.

run audit --data-dir "$tmp/no-such-dir"
expect_rc 2 "audit without a trail"
expect_line "$tmp/err" "no audit trail at '$tmp/no-such-dir/audit.db'" "audit missing trail message"
run audit --since yesterday
expect_rc 2 "audit bad --since"
expect_line "$tmp/err" "--since: bad time 'yesterday'" "audit bad --since names the option"
run audit --file x --data-dir y
expect_rc 2 "audit --file and --data-dir"
run audit --help
expect_rc 0 "audit --help"
expect_line "$tmp/out" "^usage: cyberpact audit" "audit --help text"
run audit verify --help
expect_rc 0 "audit verify --help"
expect_line "$tmp/out" "^usage: cyberpact audit verify" "audit verify --help text"
run audit head --help
expect_rc 0 "audit head --help"

if command -v python3 >/dev/null 2>&1; then
	mkdir -p "$tmp/node"
	trail="$tmp/node/audit.db"
	ind_id=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
	python3 - "$trail" <<'EOF' >"$tmp/head.want"
import hashlib, sqlite3, struct, sys
path = sys.argv[1]
db = sqlite3.connect(path)
db.executescript("""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES('format', '1');
CREATE TABLE records(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,
  partner TEXT, action TEXT, collection TEXT, object TEXT, version TEXT, reason TEXT,
  detail TEXT, request_id TEXT, hash BLOB NOT NULL CHECK(length(hash) = 32));
""")
ind = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
recs = [
    (1714557600000000, "release", "north", "GET objects", "c1", None, None, "ok",
     '[["%s","2024-05-01T10:00:00.000Z"]]' % ind, "q1"),
    (1714557600500000, "withhold", "north", "GET objects", "c1", None, None, "tlp-ceiling",
     '{"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b":"tlp-ceiling"}', "q1"),
    (1714644000000000, "write", "west", "POST objects", "c1", ind,
     "2024-05-02T10:00:00.000Z", "ok", None, "q2"),
    (1714730400000000, "deny", "east", "GET objects", None, None, None, "bad-token",
     "x" * 300 + "\tend", "q3"),
    (1714730400000001, "admin", "operator", "partner add", None, None, None, "ok", "", None),
]
def field(v):
    if v is None:
        return b"\x00"
    b = v.encode()
    return b"\x01" + struct.pack(">Q", len(b)) + b
prev = bytes(32)
for seq, r in enumerate(recs, 1):
    enc = struct.pack(">Qq", seq, r[0]) + b"".join(field(v) for v in r[1:])
    prev = hashlib.sha256(prev + enc).digest()
    db.execute("INSERT INTO records VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", (seq,) + r + (prev,))
db.commit()
with open(path + ".anchor", "w") as f:
    f.write("%d %s\n" % (len(recs), prev.hex()))
print("%d %s" % (len(recs), prev.hex()))
EOF
	head_want=$(cat "$tmp/head.want")

	run audit --data-dir "$tmp/node"
	expect_rc 0 "audit list"
	if [ "$(wc -l <"$tmp/out")" -eq 5 ]; then ok; else bad "audit list: 5 lines"; fi
	expect_line "$tmp/out" "^1	2024-05-01T10:00:00\.000000Z	release	north	GET objects	c1	-	-	ok	\[\[\"$ind_id\"" "audit list line format"
	expect_line "$tmp/out" "^4	.*	deny	east	.*	bad-token	x{100}\.\.\.\$" "audit list cuts detail"
	run audit --file "$trail" --partner north
	expect_rc 0 "audit --partner"
	if [ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "1 2 " ]; then ok; else bad "audit --partner north: records 1 2"; fi
	run audit --data-dir "$tmp/node" --object "$ind_id"
	if [ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "1 3 " ]; then ok; else bad "audit --object: records 1 3 (detail and column)"; fi
	run audit --data-dir "$tmp/node" --since 2024-05-02 --until 2024-05-03T10:00:00Z
	if [ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "3 4 " ]; then ok; else bad "audit --since/--until: records 3 4"; fi
	run audit --data-dir "$tmp/node" --kind withhold --limit 5
	if [ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "2 " ]; then ok; else bad "audit --kind withhold: record 2"; fi
	run audit --data-dir "$tmp/node" --limit 2
	if [ "$(wc -l <"$tmp/out")" -eq 2 ]; then ok; else bad "audit --limit 2"; fi
	run audit --data-dir "$tmp/node" --json --kind deny
	expect_rc 0 "audit --json"
	if python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 1, lines
r = json.loads(lines[0])
assert r["seq"] == 4 and r["kind"] == "deny" and r["collection"] is None, r
assert r["detail"] == "x" * 300 + "\tend", r["detail"]
assert len(r["hash"]) == 64, r
' <"$tmp/out" 2>"$tmp/err"; then ok; else bad "audit --json: one whole record per line"; fi

	run audit verify --data-dir "$tmp/node"
	expect_rc 0 "audit verify intact"
	expect_line "$tmp/out" "^audit trail intact: 5 records, head $head_want\$" "audit verify message"
	run audit head --data-dir "$tmp/node"
	expect_rc 0 "audit head"
	expect_line "$tmp/out" "^$head_want\$" "audit head prints the head"

	# tampering, behind the node's back
	python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE records SET reason = ? WHERE seq = 2", ("ok",))
db.commit()
' "$trail"
	run audit verify --data-dir "$tmp/node"
	expect_rc 1 "audit verify changed record"
	expect_line "$tmp/out" "error \[audit-hash\]: record 2 " "audit verify names the changed record"
	expect_line "$tmp/out" "^audit trail BROKEN" "audit verify broken summary"
	if command -v sqlite3 >/dev/null 2>&1; then
		sqlite3 "$trail" "UPDATE records SET reason = 'tlp-ceiling' WHERE seq = 2; DELETE FROM records WHERE seq = 5;"
		run audit verify --data-dir "$tmp/node"
		expect_rc 1 "audit verify cut tail"
		expect_no_line "$tmp/out" "audit-hash" "audit verify: record 2 restored"
		expect_line "$tmp/out" "error \[audit-anchor\]: records were removed from the end: the anchor names record 5 but the last record is 4" "audit verify names the removed tail"
	else
		echo "note: sqlite3 not found; tail truncation through the sqlite3 shell skipped"
	fi
else
	echo "note: python3 not found; audit trail listing and verification skipped"
fi

# ------------------------------------------------------ partner, agreement

pd="$tmp/partners-data"
pcfg="$tmp/partners-cfg.yaml"
pfile="$pd/partners.yaml"
c_ind=9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a10
c_sig=2f3c5a1e-8b7d-4c6e-a1f0-3d2e1c0b9a87
fp=sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789
cat >"$pcfg" <<EOF
api_roots:
  - name: api1
    title: Main
    collections:
      - {id: $c_ind, title: Indicators, alias: indicators}
      - {id: $c_sig, title: Sightings, alias: sightings}
EOF

run partner --help
expect_rc 0 "partner --help"
expect_line "$tmp/out" "^usage: cyberpact partner add NAME" "partner --help text"
run agreement --help
expect_rc 0 "agreement --help"
expect_line "$tmp/out" "^usage: cyberpact agreement check FILE" "agreement --help text"
run partner frobnicate
expect_rc 2 "partner unknown subcommand"

run partner add jp-mod --data-dir "$pd" --config "$pcfg" --title "Japan MOD" --read '*' \
	--write sightings --tlp-ceiling amber+strict --pap-ceiling amber --fingerprint "$fp" \
	--sightings --token --expires 30
expect_rc 0 "partner add"
expect_line "$tmp/out" '^cpt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$' "partner add --token prints the token"
expect_line "$tmp/err" "shown only once" "partner add --token warns that it is shown once"
token=$(grep '^cpt_' "$tmp/out")
tid=$(printf '%s' "$token" | cut -c5-12)
secret=$(printf '%s' "$token" | cut -c14-)
if [ -n "$secret" ] && ! grep -qF -- "$secret" "$pfile"; then ok; else bad "token secret in $pfile"; fi
expect_line "$pfile" "id: $tid" "token id stored"
if [ "$(stat -c %a "$pfile")" = 600 ]; then ok; else bad "partners.yaml mode $(stat -c %a "$pfile")"; fi

run partner add jp-mod --data-dir "$pd" --config "$pcfg"
expect_rc 1 "partner add duplicate"
expect_line "$tmp/err" "a partner named 'jp-mod' already exists" "partner add duplicate message"
run partner add au --data-dir "$pd" --config "$pcfg" --read indicators,nope
expect_rc 1 "partner add unknown collection"
expect_line "$tmp/err" "agreement.read\[1\]: 'nope' is neither" "partner add unknown collection message"
run partner add au --data-dir "$pd" --config "$pcfg" --tlp-ceiling purple
expect_rc 1 "partner add bad TLP"
run partner add au --data-dir "$pd" --config "$pcfg" --read indicators --tlp-ceiling green \
	--fingerprint "$fp"
expect_rc 1 "partner add taken fingerprint"
expect_line "$tmp/err" "already used by partner 'jp-mod'" "partner add taken fingerprint message"
run partner add au --data-dir "$pd" --config "$pcfg" --read indicators --tlp-ceiling green \
	--community pacific --third-party
expect_rc 0 "partner add second"

run partner list --data-dir "$pd"
expect_rc 0 "partner list"
expect_line "$tmp/out" '^jp-mod  "Japan MOD"' "partner list names jp-mod"
expect_line "$tmp/out" "^    $tid  active " "partner list shows the token as active"
expect_line "$tmp/out" "^au  community pacific" "partner list names au"
expect_no_line "$tmp/out" "hash" "partner list shows no hashes"

run partner issue-token au --data-dir "$pd" --expires 10
expect_rc 0 "partner issue-token"
expect_line "$tmp/out" '^cpt_[0-9a-f]{8}_' "partner issue-token prints the token"
run partner issue-token nobody --data-dir "$pd"
expect_rc 1 "partner issue-token unknown partner"

run partner revoke-token jp-mod "$tid" --data-dir "$pd"
expect_rc 0 "partner revoke-token"
run partner revoke-token jp-mod "$tid" --data-dir "$pd"
expect_rc 0 "partner revoke-token again"
expect_line "$tmp/out" "already revoked" "partner revoke-token again message"
run partner revoke-token jp-mod deadbeef --data-dir "$pd"
expect_rc 1 "partner revoke-token unknown id"
run partner list --data-dir "$pd" --json
expect_rc 0 "partner list --json"
if command -v python3 >/dev/null 2>&1; then
	if python3 -c '
import json, sys
doc = json.load(sys.stdin)
p = {x["name"]: x for x in doc["partners"]}
assert set(p) == {"jp-mod", "au"}, p
t = p["jp-mod"]["tokens"][0]
assert t["id"] == sys.argv[1] and t["state"] == "revoked" and "revoked" in t, t
assert p["au"]["tokens"][0]["state"] == "active" and "expires" in p["au"]["tokens"][0]
assert p["jp-mod"]["agreement"]["tlp_ceiling"] == "amber+strict"
assert p["jp-mod"]["certificates"][0]["fingerprint"] == sys.argv[2].lower()
assert "hash" not in json.dumps(doc)
' "$tid" "$fp" <"$tmp/out" 2>"$tmp/err"; then ok; else bad "partner list --json content"; fi
fi

run partner set au --data-dir "$pd" --config "$pcfg" --tlp-ceiling amber --sightings \
	--subject "CN=au,O=ASD"
expect_rc 0 "partner set"
expect_line "$pfile" "tlp_ceiling: amber$" "partner set changes the ceiling"
expect_line "$pfile" "subject: CN=au,O=ASD" "partner set adds a subject"

run partner remove au --data-dir "$pd"
expect_rc 0 "partner remove"
run partner remove au --data-dir "$pd"
expect_rc 1 "partner remove twice"
run partner list --data-dir "$pd"
expect_no_line "$tmp/out" "^au" "removed partner is gone"

# every change is in the audit trail, and no token secret is
run audit --data-dir "$pd"
expect_rc 0 "audit after partner changes"
for action in "partner add" "partner issue-token" "partner revoke-token" "partner set" \
	"partner remove"; do
	expect_line "$tmp/out" "admin.*$action" "audit records $action"
done
if ! grep -qF -- "$secret" "$tmp/out" && ! grep -qF -- "$secret" "$pd/audit.db"; then ok
else bad "token secret in the audit trail"; fi
run audit verify --data-dir "$pd"
expect_rc 0 "audit verify after partner changes"

# concurrent changes wait for each other: none is lost
for i in 1 2 3 4 5 6; do
	"$CP" partner add "c$i" --data-dir "$pd" >/dev/null 2>&1 &
done
wait
run partner list --data-dir "$pd"
n=$(grep -cE '^c[1-6]( |$)' "$tmp/out")
if [ "$n" -eq 6 ]; then ok; else bad "concurrent partner add: $n of 6 partners kept"; fi

run agreement check "$pfile" --config "$pcfg"
expect_rc 0 "agreement check valid"
expect_line "$tmp/out" "valid: 7 partners" "agreement check summary"
expect_line "$tmp/out" "up to TLP:AMBER\+STRICT \(ceiling AMBER\+STRICT" "agreement check explains the ceiling"
expect_line "$tmp/out" "writes: sightings \($c_sig\)" "agreement check resolves aliases"
expect_line "$tmp/out" "PAP: up to PAP:AMBER" "agreement check explains PAP"

printf 'partners:\n  - name: a\n    agreement:\n      tlp_ceiling: purple\n  - name: a\n' \
	>"$tmp/bad-partners.yaml"
run agreement check "$tmp/bad-partners.yaml"
expect_rc 1 "agreement check invalid"
expect_line "$tmp/out" "^$tmp/bad-partners.yaml:4:20: error \[partners\]: .*'purple' is not a TLP level" \
	"agreement check line:column"
expect_line "$tmp/out" "^$tmp/bad-partners.yaml:5:11: error .*duplicate partner name 'a'" \
	"agreement check second finding"
run agreement check "$tmp/no-such-partners.yaml"
expect_rc 2 "agreement check missing file"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
