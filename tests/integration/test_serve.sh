#!/usr/bin/env bash
# Integration test: start the real node (HTTPS, embedded SQLite) on an ephemeral
# loopback port with a temporary data directory and speak TAXII 2.1 to it with curl.
# $1 = path of the cyberpact binary; CP_SHARED_DATA = the shared sample data.
set -u
CP="$1"
DATA="${CP_SHARED_DATA:-$(dirname "$0")/../../../shared/data}"
TMP=$(mktemp -d /tmp/cp-serve-XXXXXX)
PID=""
. "$(dirname "$0")/lib.sh"

cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT


start() {
	: >"$TMP/out.log"
	"$CP" serve --data-dir "$TMP/node" --listen 127.0.0.1:0 >"$TMP/out.log" 2>"$TMP/err.log" &
	PID=$!
	for _ in $(seq 1 100); do
		URL=$(sed -n 's/^cyberpact: node listening: \(https:[^ ]*\)$/\1/p' "$TMP/out.log")
		[ -n "$URL" ] && break
		if ! kill -0 "$PID" 2>/dev/null; then
			echo "server died:"; cat "$TMP/err.log"; return 1
		fi
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "server did not start"; cat "$TMP/err.log"; return 1; }
	BASE=${URL%/taxii2/}
	CRED=$(cat "$TMP/node/credentials")
	CA="$TMP/node/pki/ca.crt"
	COLL=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$TMP/node/cyberpact.yaml" | head -n 1)
	OBJ="$BASE/api1/collections/$COLL/objects/"
}

# curl wrapper: prints the status code; body to $TMP/body, headers to $TMP/headers
req() {
	curl -sS -g --cacert "$CA" -u "$CRED" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
		-H "Accept: $MT" "$@"
}

post_file() { # post_file FILE -> status code
	req -X POST -H "Content-Type: $MT" --data-binary @"$1" "$OBJ"
}

start || exit 1
echo "node at $URL"

# --- discovery, auth, media types
check "discovery 200" [ "$(req "$URL")" = 200 ]
check "discovery content type" grep -qi "^content-type: application/taxii+json;version=2.1" "$TMP/headers"
check "discovery default root" grep -q '"default":"/api1/"' "$TMP/body"
code=$(curl -sS --cacert "$CA" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$URL")
check "anonymous 401" [ "$code" = 401 ]
check "401 challenge" grep -qi '^www-authenticate: basic' "$TMP/headers"
check "401 is a TAXII error" grep -q '"http_status":"401"' "$TMP/body"
code=$(curl -sS --cacert "$CA" -u "admin:wrong" -o /dev/null -w '%{http_code}' "$URL")
check "bad password 401" [ "$code" = 401 ]
code=$(curl -sS --cacert "$CA" -u "nobody:wrong" -o /dev/null -w '%{http_code}' "$URL")
check "unknown user 401" [ "$code" = 401 ]
# a burst of wrong passwords: argon2 runs at most one per CPU at once (64 MB each), so
# the node's peak memory grows by a few of them, not by 32 (+280-354 MB on 2 CPUs unbounded)
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status"; }
hwm0=$(hwm)
burst=""
for i in $(seq 32); do
	curl -sS --cacert "$CA" -u "admin:wrong$i" -o /dev/null -w '%{http_code}\n' "$URL" >>"$TMP/burst" &
	burst="$burst $!"
done
wait $burst
check "burst of wrong passwords: all 401" [ "$(grep -c '^401$' "$TMP/burst")" = 32 ]
grow=$(( $(hwm) - hwm0 ))
check "burst of wrong passwords: peak memory +$((grow / 1024)) MB, at most $(( ($(nproc) + 2) * 64 )) MB" \
	[ "$grow" -le $(( ($(nproc) + 2) * 65536 )) ]
code=$(curl -sS --cacert "$CA" --cert "$TMP/node/pki/client.crt" --key "$TMP/node/pki/client.key" \
	-o /dev/null -w '%{http_code}' "$URL")
check "client certificate 200" [ "$code" = 200 ]
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://${BASE#https://}/taxii2/" 2>/dev/null)
check "plain HTTP refused" [ "$code" != 200 ]
acc() { curl -sS --cacert "$CA" -u "$CRED" -o /dev/null -w '%{http_code}' -H "Accept: $1" "$URL"; }
check "406 for text/html" [ "$(acc 'text/html')" = 406 ]
check "406 for TAXII 2.0" [ "$(acc 'application/taxii+json;version=2.0')" = 406 ]
check "200 for unversioned taxii accept" [ "$(acc 'application/taxii+json')" = 200 ]
check "api root" [ "$(req "$BASE/api1/")" = 200 ]
check "api root max_content_length" grep -q '"max_content_length":10485760' "$TMP/body"
check "collections" [ "$(req "$BASE/api1/collections/")" = 200 ]
check "collection listed" grep -q "$COLL" "$TMP/body"
check "unknown collection 404" [ "$(req "$BASE/api1/collections/nope/objects/")" = 404 ]

# --- POST a real bundle as an envelope
jq -c '{objects: .objects}' "$DATA/stix21/oasis/apt1.json" >"$TMP/apt1.env"
check "post apt1 202" [ "$(post_file "$TMP/apt1.env")" = 202 ]
check "apt1 all stored" [ "$(jq .success_count "$TMP/body")" = "$(jq '.objects | length' "$TMP/apt1.env")" ]
check "status complete" [ "$(jq -r .status "$TMP/body")" = complete ]
SID=$(jq -r .id "$TMP/body")
check "status resource" [ "$(req "$BASE/api1/status/$SID/")" = 200 ]
check "status without slash" [ "$(req "$BASE/api1/status/$SID")" = 200 ]
check "415 wrong content type" [ "$(req -X POST -H 'Content-Type: application/json' --data-binary @"$TMP/apt1.env" "$OBJ")" = 415 ]
echo '{"objects": [' >"$TMP/bad.env"; echo 'not json' >>"$TMP/bad.env"
check "400 malformed JSON" [ "$(post_file "$TMP/bad.env")" = 400 ]
check "400 says where" grep -q 'line' "$TMP/body"
# an invalid object is a failure in the status, the valid one is stored
jq -c '{objects: [.objects[0], (.objects[1] | .id = "indicator--not-a-uuid")]}' \
	"$DATA/stix21/oasis/indicator-for-malicious-url.json" >"$TMP/mixed.env"
check "mixed 202" [ "$(post_file "$TMP/mixed.env")" = 202 ]
check "mixed failure reported" [ "$(jq .failure_count "$TMP/body")" = 1 ]
check "mixed failure names the pointer" grep -q '/id' "$TMP/body"

# oversized body: 413 before the body is read, the node stays up
head -c $((11 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TMP/big"
check "413 oversized" [ "$(post_file "$TMP/big")" = 413 ]
check "still up after 413" [ "$(req "$URL")" = 200 ]

# --- paging by next and by added_after
total=$(jq '[.objects[].id] | unique | length' "$TMP/apt1.env")
got=0; next=""; pages=0
while :; do
	if [ -n "$next" ]; then code=$(req "$OBJ?limit=7&next=$next"); else code=$(req "$OBJ?limit=7"); fi
	[ "$code" = 200 ] || { bad "page $pages status $code"; break; }
	got=$((got + $(jq '.objects // [] | length' "$TMP/body")))
	pages=$((pages + 1))
	[ "$(jq -r .more "$TMP/body")" = true ] || break
	next=$(jq -r .next "$TMP/body")
	[ $pages -lt 100 ] || { bad "paging does not end"; break; }
done
# the mixed post added one more object (its valid half)
check "paging by next sees every object once" [ "$got" = $((total + 1)) ]
check "date-added headers" grep -qi '^x-taxii-date-added-last:' "$TMP/headers"
got=0; after=""
for _ in $(seq 1 100); do
	if [ -n "$after" ]; then code=$(req -G --data-urlencode "added_after=$after" "$OBJ?limit=9"); else code=$(req "$OBJ?limit=9"); fi
	n=$(jq '.objects // [] | length' "$TMP/body")
	[ "$n" = 0 ] && break
	got=$((got + n))
	after=$(sed -n 's/^[Xx]-[Tt][Aa][Xx][Ii][Ii]-[Dd]ate-[Aa]dded-[Ll]ast: *\([^\r]*\)\r*$/\1/p' "$TMP/headers")
done
check "paging by added_after sees every object once" [ "$got" = $((total + 1)) ]
ID=$(jq -r '.objects[] | select(.type=="indicator") | .id' "$TMP/apt1.env" | head -n 1)
check "object by id" [ "$(req "$OBJ$ID/")" = 200 ]
check "versions" [ "$(req "$OBJ$ID/versions/")" = 200 ]
check "manifest" [ "$(req "$BASE/api1/collections/$COLL/manifest/?match[type]=indicator")" = 200 ]
# apt1's indicators plus the indicator of the mixed post
check "manifest filtered" [ "$(jq '.objects | length' "$TMP/body")" = $(( $(jq '[.objects[] | select(.type=="indicator")] | length' "$TMP/apt1.env") + 1 )) ]
check "match[type] filter" [ "$(req "$OBJ?match%5Btype%5D=identity")" = 200 ]
check "match[type] result" [ "$(jq '.objects | length' "$TMP/body")" = "$(jq '[.objects[] | select(.type=="identity")] | length' "$TMP/apt1.env")" ]
check "bad filter 400" [ "$(req "$OBJ?limit=-1")" = 400 ]
check "delete" [ "$(req -X DELETE "$OBJ$ID/")" = 200 ]
check "deleted is gone" [ "$(req "$OBJ$ID/")" = 404 ]

# --- 10,000 objects, paged with limit=1000 while another client keeps posting
gen() { # gen START COUNT -> an envelope of COUNT indicators
	jq -nc --argjson s "$1" --argjson n "$2" '{objects: [range($s; $s + $n) | {
		type: "indicator", spec_version: "2.1",
		id: ("indicator--" + ("00000000" + (. | tostring))[-8:] + "-2222-4222-8222-222222222222"),
		created: "2022-01-01T00:00:00.000Z", modified: "2022-01-01T00:00:00.000Z",
		pattern: ("[ipv4-addr:value = '"'"'10.7." + ((. / 256 | floor) % 256 | tostring) + "." + (. % 256 | tostring) + "'"'"']"),
		pattern_type: "stix", valid_from: "2022-01-01T00:00:00Z"}]}'
}
loaded=0
for k in $(seq 0 9); do
	gen $((k * 1000)) 1000 >"$TMP/batch.env"
	[ "$(post_file "$TMP/batch.env")" = 202 ] && loaded=$((loaded + $(jq .success_count "$TMP/body")))
done
check "10,000 objects stored" [ "$loaded" = 10000 ]
(
	for k in $(seq 10 29); do
		gen $((k * 1000)) 200 >"$TMP/w$k.env"
		curl -sS -g --cacert "$CA" -u "$CRED" -H "Accept: $MT" -H "Content-Type: $MT" \
			--data-binary @"$TMP/w$k.env" -o /dev/null "$OBJ"
	done
) &
BUSY=$!
: >"$TMP/seen"
next=""
for _ in $(seq 1 200); do
	if [ -n "$next" ]; then code=$(req "$OBJ?match%5Btype%5D=indicator&limit=1000&next=$next")
	else code=$(req "$OBJ?match%5Btype%5D=indicator&limit=1000"); fi
	[ "$code" = 200 ] || { bad "busy paging status $code"; break; }
	jq -r '.objects // [] | .[].id' "$TMP/body" >>"$TMP/seen"
	[ "$(jq -r .more "$TMP/body")" = true ] || break
	next=$(jq -r .next "$TMP/body")
done
wait "$BUSY"
dups=$(sort "$TMP/seen" | uniq -d | wc -l)
first10k=$(grep -c -- '^indicator--0000[0-9][0-9][0-9][0-9]-2222-4222-8222-222222222222$' "$TMP/seen")
check "busy paging: no object repeated" [ "$dups" = 0 ]
check "busy paging: all 10,000 seen" [ "$first10k" = 10000 ]

# --- clean shutdown and restart: nothing acknowledged is lost
kill -TERM "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then bad "SIGTERM did not stop the node"; kill -9 "$PID"; fi
wait "$PID"; rc=$?
check "clean exit status" [ "$rc" = 0 ]
PID=""
cred_before="$CRED"
printf 'limits:\n  connection_timeout: 2\n' >>"$TMP/node/cyberpact.yaml"
start || exit 1
check "credentials kept" [ "$CRED" = "$cred_before" ]

# --- slow clients: 20 connections that never finish a TLS handshake do not stop
# others from being served, and are dropped after connection_timeout
port=${BASE##*:}
for i in $(seq 1 20); do
	eval "exec $((i + 20))<>/dev/tcp/127.0.0.1/$port"
	printf '\x16\x03\x01' >&$((i + 20)) # the first bytes of a TLS record, then nothing
done
check "served while slow clients hang" [ "$(req "$URL")" = 200 ]
sleep 4
closed=0
for i in $(seq 1 20); do
	# a dropped connection reads end-of-file (or an alert) at once instead of blocking
	if timeout 2 cat <&$((i + 20)) >/dev/null 2>&1; then closed=$((closed + 1)); fi
	eval "exec $((i + 20))<&-"
done
check "slow clients dropped after the timeout" [ "$closed" = 20 ]
check "served after slow clients" [ "$(req "$URL")" = 200 ]
check "data kept after restart" [ "$(req "$OBJ?match%5Btype%5D=identity")" = 200 ]
check "data kept count" [ "$(jq '.objects | length' "$TMP/body")" -ge 1 ]

# --- kill -9 while a client posts: every success is there after restart
: >"$TMP/acked"
(
	for i in $(seq 1 60); do
		id=$(printf 'indicator--%08x-1111-4111-8111-111111111111' "$i")
		printf '{"objects":[{"type":"indicator","spec_version":"2.1","id":"%s","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'10.9.0.%d'"'"']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"}]}' "$id" "$i" >"$TMP/one.env"
		out=$(curl -sS --cacert "$CA" -u "$CRED" -H "Accept: $MT" -H "Content-Type: $MT" \
			--data-binary @"$TMP/one.env" "$OBJ" 2>/dev/null) || continue
		[ "$(printf '%s' "$out" | jq -r '.success_count // 0' 2>/dev/null)" = 1 ] && echo "$id" >>"$TMP/acked"
	done
) &
WRITER=$!
sleep 1
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=""
wait "$WRITER" 2>/dev/null
start || exit 1
missing=0
while read -r id; do
	[ "$(req "$OBJ$id/")" = 200 ] || missing=$((missing + 1))
done <"$TMP/acked"
echo "kill -9 test: $(wc -l <"$TMP/acked") acknowledged before the kill, $missing missing after restart"
check "acknowledged objects survive kill -9" [ "$missing" = 0 ]
check "acknowledged some before the kill" [ "$(wc -l <"$TMP/acked")" -gt 0 ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
