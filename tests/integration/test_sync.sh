#!/usr/bin/env bash
# Integration test of federation (docs/SYNC.md): three real nodes (us, jp, kr) as
# separate processes on loopback ports, each with its own data directory, PKI,
# partners and agreements, syncing by themselves:
#   jp pulls us's collection; kr pulls jp's; us pulls jp's (a loop back to the
#   source); us pushes to kr; jp pushes to us.
# Checks: convergence of 10,000 objects; each version stored once per node; TLP
# across hops (AMBER from us reaches jp, never kr, neither through jp nor by us's
# push); new versions and revocations propagate; no echo (jp never pushes us's own
# objects back); a peer killed mid-sync shows up in `sync status` and the sync
# resumes without loss or duplicates after it restarts; `sync run` on demand.
# $1 = path of the cyberpact binary.
set -u
CP="$1"
TMP=$(mktemp -d /tmp/cp-sync-XXXXXX)
declare -A PID PORT COLL
FAULT_PID=""
. "$(dirname "$0")/lib.sh"

cleanup() {
	for n in us jp kr x; do [ -n "${PID[$n]:-}" ] && kill -9 "${PID[$n]}" 2>/dev/null; done
	[ -n "$FAULT_PID" ] && kill "$FAULT_PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT


start() { # start NAME
	local n=$1
	"$CP" serve --data-dir "$TMP/$n" --listen "127.0.0.1:${PORT[$n]}" \
		>"$TMP/$n.out" 2>>"$TMP/$n.err" &
	PID[$n]=$!
	for _ in $(seq 1 100); do
		grep -q '^cyberpact: node listening' "$TMP/$n.out" 2>/dev/null && return 0
		kill -0 "${PID[$n]}" 2>/dev/null || { echo "$n died:"; tail "$TMP/$n.err"; return 1; }
		sleep 0.1
	done
	echo "$n did not start"; tail "$TMP/$n.err"; return 1
}
stop() { kill -TERM "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; PID[$1]=""; }

rows() { # rows NODE [SQL condition] -> count of stored versions
	sqlite3 "$TMP/$1/store.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM objects${2:+ WHERE $2}" | tail -n 1
}

# first start of each node: PKI, credentials, a default configuration
for n in us jp kr; do
	PORT[$n]=$(free_port)
	start "$n" || exit 1
	COLL[$n]=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$TMP/$n/cyberpact.yaml" | head -n 1)
	stop "$n"
done

# partners and tokens: who may read and write what, on each node
cli() { "$CP" "$@" >"$TMP/cli.out" 2>"$TMP/cli.err" || { echo "cli failed: $*"; cat "$TMP/cli.err"; }; }
token() { grep -o 'cpt_[0-9a-f]\{8\}_[A-Za-z0-9_-]\{43\}' "$TMP/cli.out" | head -n 1; }
mkdir -p "$TMP/us/peers" "$TMP/jp/peers" "$TMP/kr/peers"
# on us: jp reads up to AMBER (and may write, for its push); kr reads up to GREEN
cli partner add jp --data-dir "$TMP/us" --read '*' --write '*' --tlp-ceiling amber --community pact --third-party --token
token >"$TMP/jp/peers/us.token"
cli partner add kr --data-dir "$TMP/us" --read '*' --tlp-ceiling green --community pact
# on jp: us reads up to AMBER; kr reads up to GREEN, third-party GREEN within "pact"
cli partner add us --data-dir "$TMP/jp" --read '*' --tlp-ceiling amber --community pact --third-party --token
token >"$TMP/us/peers/jp.token"
cli partner add kr --data-dir "$TMP/jp" --read '*' --tlp-ceiling green --community pact --third-party --token
token >"$TMP/kr/peers/jp.token"
# on kr: us may write (its push)
cli partner add us --data-dir "$TMP/kr" --write '*' --token
token >"$TMP/us/peers/kr.token"
for f in "$TMP"/*/peers/*.token; do check "token file $f" [ -s "$f" ]; done

peer() { # peer NAME NODE-DIR-OF-SELF -> yaml lines for peer NAME
	printf '  - name: %s\n    url: https://127.0.0.1:%s/api1/\n    cacert: %s\n    token_file: peers/%s.token\n' \
		"$1" "${PORT[$1]}" "$TMP/$1/pki/ca.crt" "$1"
}
{
	echo "peers:"
	peer jp
	printf '    pull:\n      - {remote: %s, local: default, interval: 1}\n' "${COLL[jp]}"
	peer kr
	printf '    push:\n      - {local: default, remote: %s, interval: 1}\n' "${COLL[kr]}"
} >>"$TMP/us/cyberpact.yaml"
{
	echo "peers:"
	peer us
	printf '    pull:\n      - {remote: %s, local: default, interval: 1}\n' "${COLL[us]}"
	printf '    push:\n      - {local: default, remote: %s, interval: 1}\n' "${COLL[us]}"
} >>"$TMP/jp/cyberpact.yaml"
{
	echo "peers:"
	peer jp
	printf '    pull:\n      - {remote: %s, local: default, interval: 1}\n' "${COLL[jp]}"
} >>"$TMP/kr/cyberpact.yaml"

for n in us jp kr; do start "$n" || exit 1; done
echo "nodes: us ${PORT[us]}, jp ${PORT[jp]}, kr ${PORT[kr]}"

post() { # post NODE FILE -> HTTP status
	curl -sS --cacert "$TMP/$1/pki/ca.crt" -u "$(cat "$TMP/$1/credentials")" -o "$TMP/post.out" \
		-w '%{http_code}' -H "Accept: $MT" -H "Content-Type: $MT" --data-binary @"$2" \
		"https://127.0.0.1:${PORT[$1]}/api1/collections/${COLL[$1]}/objects/"
}
GREEN=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
envelope() { # envelope FIRST COUNT PREFIX [MODIFIED] [EXTRA]: indicators, every 10th AMBER
	awk -v first="$1" -v count="$2" -v prefix="$3" -v mod="${4:-2024-01-01T00:00:00.000Z}" \
		-v extra="${5:-}" -v green="$GREEN" -v amber="$AMBER" 'BEGIN {
		printf "{\"objects\":["
		for (i = first; i < first + count; i++) {
			m = (i % 10 == 0) ? amber : green
			printf "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s-%04x-4000-8000-%012d\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\",\"pattern\":\"[ipv4-addr:value = '"'"'10.%d.%d.%d'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"object_marking_refs\":[\"%s\"]%s}", (i > first ? "," : ""), prefix, int(i / 65536), i, mod, int(i / 65536) % 256, int(i / 256) % 256, i % 256, m, extra
		}
		printf "]}"
	}'
}

# --- us shares 10,000 indicators (1,000 of them AMBER); jp shares 50 of its own
for b in 0 1 2 3 4 5 6 7 8 9; do
	envelope $((b * 1000)) 1000 aaaaaaaa >"$TMP/env.json"
	check "us posts batch $b" [ "$(post us "$TMP/env.json")" = 202 ]
done
envelope 0 50 bbbbbbbb >"$TMP/jp.json"
check "jp posts its own" [ "$(post jp "$TMP/jp.json")" = 202 ]

eq() { [ "$("${@:2}")" = "$1" ]; }
check "jp converges: 10,000 from us + 50 own" wait_for 90 eq 10050 rows jp
check "kr converges: 9,000 GREEN of us + 45 GREEN of jp" wait_for 90 eq 9045 rows kr
check "us converges: 10,000 own + 50 of jp" wait_for 60 eq 10050 rows us
# each version exactly once per node, with its provenance
check "jp: us's objects have origin us" [ "$(rows jp "origin = 'us'")" = 10000 ]
check "kr: nothing AMBER" [ "$(rows kr "tlp >= 3")" = 0 ]
check "kr: no AMBER of us, through jp or by push" [ "$(rows kr "id LIKE 'indicator--aaaaaaaa-%' AND tlp = 3")" = 0 ]
check "jp: AMBER of us arrived" [ "$(rows jp "tlp = 3 AND origin = 'us'")" = 1000 ]
check "us: its own objects kept their origin" [ "$(rows us "origin IS NULL")" = 10000 ]
check "us: jp's came from jp" [ "$(rows us "origin = 'jp'")" = 50 ]
check "kr: one version per id" [ "$(sqlite3 "$TMP/kr/store.db" 'SELECT count(*) - count(DISTINCT id) FROM objects')" = 0 ]

# --- no echo: jp's push to us carried only jp's own objects
"$CP" sync status --data-dir "$TMP/jp" --json >"$TMP/status.json" 2>&1
check "sync status runs" [ -s "$TMP/status.json" ]
check "jp pushed only its own 50 to us" [ "$(jq -r 'select(.direction=="push") | .total' "$TMP/status.json")" = 50 ]
check "jp pulled 10,000 from us" [ "$(jq -r 'select(.direction=="pull") | .total' "$TMP/status.json")" = 10000 ]
check "status shows no error" [ "$(jq -r 'select(.direction=="pull") | .last_error' "$TMP/status.json")" = "" ]

# --- a new version and a revocation at the origin reach every node
envelope 1 2 aaaaaaaa 2024-06-01T00:00:00.000Z ',"revoked":true' >"$TMP/rev.json"
check "us revokes two indicators" [ "$(post us "$TMP/rev.json")" = 202 ]
REV=indicator--aaaaaaaa-0000-4000-8000-000000000001
for n in jp kr; do
	check "$n: revocation arrived" wait_for 60 eq 1 rows "$n" "id = '$REV' AND is_last = 1 AND revoked = 1"
	check "$n: both versions kept" [ "$(rows "$n" "id = '$REV'")" = 2 ]
done

# --- a peer killed mid-sync: jp goes down while us posts more
stop jp
envelope 20000 2000 aaaaaaaa >"$TMP/more.json"
check "us posts while jp is down" [ "$(post us "$TMP/more.json")" = 202 ]
# a failed pass is recorded once the client's retries are spent (a few seconds)
kr_failing() {
	"$CP" sync status --data-dir "$TMP/kr" >"$TMP/kr-status.txt" 2>&1
	grep -q 'failures [1-9].*error: .*jp' "$TMP/kr-status.txt"
}
check "kr's status shows the failure" wait_for 30 kr_failing
start jp || exit 1
check "jp catches up after restart" wait_for 90 eq 12052 rows jp
check "kr catches up through jp (GREEN only)" wait_for 90 eq 10847 rows kr
check "jp: no duplicates after the restart" [ "$(sqlite3 "$TMP/jp/store.db" 'SELECT count(*) FROM (SELECT id, version_key FROM objects GROUP BY 1, 2 HAVING count(*) > 1)')" = 0 ]
"$CP" sync status --data-dir "$TMP/kr" --json >"$TMP/kr-status.json" 2>&1
check "kr's error cleared" wait_for 20 bash -c "'$CP' sync status --data-dir '$TMP/kr' --json | jq -e 'select(.direction==\"pull\") | .last_error == \"\"' >/dev/null"

# --- sync run on demand, and the audit of what left
check "sync run --peer" "$CP" sync run --peer jp --data-dir "$TMP/kr"
check "sync run unknown peer exit 2" bash -c "'$CP' sync run --peer nobody --data-dir '$TMP/kr' 2>/dev/null; [ \$? = 2 ]"
"$CP" audit --data-dir "$TMP/us" --kind release --partner kr >"$TMP/audit.txt" 2>&1
check "us audited its push to kr" grep -q 'sync push' "$TMP/audit.txt"
"$CP" audit --data-dir "$TMP/us" --kind withhold --partner kr --json >"$TMP/audit.txt" 2>&1
check "us audited withholding AMBER from kr" grep -q 'tlp-ceiling' "$TMP/audit.txt"
for n in us jp kr; do check "$n audit chain intact" "$CP" audit verify --data-dir "$TMP/$n"; done

# --- a misbehaving peer: 500s, truncated JSON, a page without `next`, a flaky peer,
# a page that is not an envelope. Node x pulls each of them (one `sync run`).
cat >"$TMP/fault-ca.tmpl" <<EOF
cn = "fault CA"
ca
cert_signing_key
expiration_days = 30
EOF
cat >"$TMP/fault.tmpl" <<EOF
cn = "127.0.0.1"
ip_address = "127.0.0.1"
tls_www_server
encryption_key
signing_key
expiration_days = 30
EOF
certtool --generate-privkey --outfile "$TMP/fault-ca.key" 2>/dev/null
certtool --generate-self-signed --load-privkey "$TMP/fault-ca.key" --template "$TMP/fault-ca.tmpl" \
	--outfile "$TMP/fault-ca.crt" 2>/dev/null
certtool --generate-privkey --outfile "$TMP/fault.key" 2>/dev/null
certtool --generate-certificate --load-privkey "$TMP/fault.key" --load-ca-certificate "$TMP/fault-ca.crt" \
	--load-ca-privkey "$TMP/fault-ca.key" --template "$TMP/fault.tmpl" --outfile "$TMP/fault.crt" 2>/dev/null
python3 "$(dirname "$0")/fault_peer.py" "$TMP/fault.crt" "$TMP/fault.key" "$TMP/fault.port" &
FAULT_PID=$!
for _ in $(seq 1 50); do [ -s "$TMP/fault.port" ] && break; sleep 0.1; done
check "fault peer started" [ -s "$TMP/fault.port" ]
PORT[x]=$(free_port)
start x || exit 1
COLL[x]=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$TMP/x/cyberpact.yaml" | head -n 1)
stop x
{
	printf 'peers:\n  - name: bad\n    url: https://127.0.0.1:%s/api1/\n    cacert: %s\n    pull:\n' \
		"$(cat "$TMP/fault.port")" "$TMP/fault-ca.crt"
	for m in 00000500 0000007a 0000000e 00000f1a 0000b16e; do
		printf '      - {remote: %s-0000-4000-8000-000000000000, local: default}\n' "$m"
	done
} >>"$TMP/x/cyberpact.yaml"
"$CP" sync run --data-dir "$TMP/x" >"$TMP/x-run.txt" 2>&1
check "sync run reports the failed passes (exit 1)" [ $? = 1 ]
check "page without next: both pages stored" [ "$(rows x "id LIKE 'indicator--00fa000%' AND id != 'indicator--00fa0004-0000-4000-8000-000000000004'")" = 3 ]
check "flaky peer: stored after retries" [ "$(rows x "id = 'indicator--00fa0004-0000-4000-8000-000000000004'")" = 1 ]
check "nothing stored from the broken pages" [ "$(rows x)" = 4 ]
"$CP" sync status --data-dir "$TMP/x" --json >"$TMP/x-status.json" 2>&1
st() { jq -r "select(.remote | startswith(\"$1\")) | $2" "$TMP/x-status.json"; }
check "500: error in status" [ -n "$(st 00000500 .last_error)" ]
check "500: error names the peer and the status" grep -q 'peer bad: GET .*HTTP 500' "$TMP/x-status.json"
check "truncated: error says not JSON" grep -q 'not JSON' "$TMP/x-status.json"
check "not an envelope: error says so" grep -q 'not a TAXII envelope' "$TMP/x-status.json"
check "no-next peer: cursor at its last page" [ "$(st 0000000e .cursor)" = 2024-01-01T00:00:03.000000Z ]
check "flaky peer: no error left" [ "$(st 00000f1a .last_error)" = "" ]
check "failures counted" [ "$(st 00000500 .failures)" = 1 ]
# a second pass: the good subscriptions add nothing, the bad ones fail again
"$CP" sync run --data-dir "$TMP/x" >/dev/null 2>&1
check "second pass: no duplicates" [ "$(rows x)" = 4 ]
"$CP" sync status --data-dir "$TMP/x" --json >"$TMP/x-status.json" 2>&1
check "failures keep counting" [ "$(st 00000500 .failures)" = 2 ]
# reset: the cursors start over, the next pass reads everything again, stores nothing twice
check "sync reset" "$CP" sync reset --peer bad --data-dir "$TMP/x"
"$CP" sync status --data-dir "$TMP/x" --json >"$TMP/x-status.json" 2>&1
check "reset: cursor forgotten" [ "$(st 0000000e .cursor)" = "" ]
"$CP" sync run --data-dir "$TMP/x" >/dev/null 2>&1
"$CP" sync status --data-dir "$TMP/x" --json >"$TMP/x-status.json" 2>&1
check "reset: read again to the end" [ "$(st 0000000e .cursor)" = 2024-01-01T00:00:03.000000Z ]
check "reset: nothing stored twice" [ "$(rows x)" = 4 ]
check "sync reset of an unknown peer exit 2" bash -c "'$CP' sync reset --peer nobody --data-dir '$TMP/x' 2>/dev/null; [ \$? = 2 ]"
kill "$FAULT_PID" 2>/dev/null

summary sync
