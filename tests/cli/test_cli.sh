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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
