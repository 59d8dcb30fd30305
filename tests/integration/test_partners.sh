#!/usr/bin/env bash
# Integration test of partners, agreements, the egress gate and the audit trail over
# real HTTPS: a node on an ephemeral loopback port, three partners added with the CLI
# (a closest ally at AMBER+STRICT with a token, a regional partner at GREEN with a
# client certificate, a community member at CLEAR with a token), objects of every TLP
# level, and the attacks of the issue: wrong, expired and self-signed certificates,
# revoked and guessed tokens, another partner's status, path tricks, writes to
# read-only collections. Each refusal must leave an audit record, and the audit chain
# must detect tampering.
# $1 = path of the cyberpact binary.
set -u
CP="$1"
TMP=$(mktemp -d /tmp/cp-partners-XXXXXX)
PID=""
. "$(dirname "$0")/lib.sh"

cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT


D="$TMP/node"
start() {
	: >"$TMP/out.log"
	"$CP" serve --data-dir "$D" --listen 127.0.0.1:0 >"$TMP/out.log" 2>>"$TMP/err.log" &
	PID=$!
	URL=""
	for _ in $(seq 1 100); do
		URL=$(sed -n 's/^cyberpact: node listening: \(https:[^ ]*\)$/\1/p' "$TMP/out.log")
		[ -n "$URL" ] && break
		kill -0 "$PID" 2>/dev/null || { echo "server died:"; cat "$TMP/err.log"; return 1; }
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "server did not start"; cat "$TMP/err.log"; return 1; }
	BASE=${URL%/taxii2/}
	CA="$D/pki/ca.crt"
	CRED=$(cat "$D/credentials")
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=""; }

start || exit 1
COLL=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$D/cyberpact.yaml" | head -n 1)
OBJ="$BASE/api1/collections/$COLL/objects/"

# the node's own objects, one per TLP level (and one unmarked), posted by the admin
tlp_id() {
	case $1 in
	clear) echo marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487 ;;
	green) echo marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb ;;
	amber) echo marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421 ;;
	amber+strict) echo marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003 ;;
	red) echo marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1 ;;
	esac
}
indicator() { # indicator N TLP(or none) [created_by_ref]
	local m="" by=""
	[ "$2" != none ] && m=",\"object_marking_refs\":[\"$(tlp_id "$2")\"]"
	[ -n "${3:-}" ] && by=",\"created_by_ref\":\"$3\""
	printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'10.9.0.%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s%s}' "$1" "$1" "$m" "$by"
}
SUBMITTER=identity--7a6a7e2d-1b0c-4c4e-8f6a-2b1c3d4e5f60
{
	printf '{"objects":['
	i=1
	for t in none clear green amber amber+strict red; do
		[ $i -gt 1 ] && printf ','
		indicator $i $t $SUBMITTER
		i=$((i + 1))
	done
	printf ']}'
} >"$TMP/own.env"
code=$(curl -sS --cacert "$CA" -u "$CRED" -o "$TMP/body" -w '%{http_code}' -X POST \
	-H "Content-Type: $MT" --data-binary @"$TMP/own.env" "$OBJ")
check "admin posts own objects" [ "$code" = 202 ]

# --- partners through the CLI (the node is running: it must pick them up)
cli() { "$CP" "$@" --data-dir "$D" >"$TMP/cli.out" 2>"$TMP/cli.err"; }
check "partner add us" cli partner add us --title "Closest ally" --community pact \
	--read "$COLL" --write "$COLL" --tlp-ceiling amber+strict --third-party --sightings --token
US_TOKEN=$(grep -o 'cpt_[0-9a-f]\{8\}_[A-Za-z0-9_-]\{43\}' "$TMP/cli.out" | head -n 1)
check "token printed once" [ -n "$US_TOKEN" ]
check "token not stored in clear" bash -c "! grep -q '${US_TOKEN#cpt_*_}' '$D/partners.yaml'"

# jp authenticates with a client certificate signed by the node's CA
cat >"$TMP/jp.tmpl" <<EOF
cn = "jp-node"
organization = "JMOD"
tls_www_client
signing_key
expiration_days = 30
EOF
certtool --generate-privkey --key-type ecdsa --outfile "$TMP/jp.key" 2>/dev/null
certtool --generate-certificate --load-privkey "$TMP/jp.key" --load-ca-certificate "$CA" \
	--load-ca-privkey "$D/pki/ca.key" --template "$TMP/jp.tmpl" --outfile "$TMP/jp.crt" 2>/dev/null
check "partner add jp" cli partner add jp --community pact --read "$COLL" \
	--tlp-ceiling green --cert "$TMP/jp.crt" --third-party
check "partner add kr" cli partner add kr --community north --read "$COLL" \
	--tlp-ceiling clear --anonymise --token --expires 30
KR_TOKEN=$(grep -o 'cpt_[0-9a-f]\{8\}_[A-Za-z0-9_-]\{43\}' "$TMP/cli.out" | head -n 1)
check "partner list" cli partner list
check "list names all three" bash -c "grep -q us '$TMP/cli.out' && grep -q jp '$TMP/cli.out' && grep -q kr '$TMP/cli.out'"
check "list shows no hash" bash -c "! grep -qi 'hash' '$TMP/cli.out'"
check "agreement check" "$CP" agreement check "$D/partners.yaml" --config "$D/cyberpact.yaml" >"$TMP/agreement.out"
check "agreement explains the ceiling" grep -q 'AMBER+STRICT' "$TMP/agreement.out"

as_us() { curl -sS -g --cacert "$CA" -H "Authorization: Bearer $US_TOKEN" -H "Accept: $MT" \
	-o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@"; }
as_kr() { curl -sS -g --cacert "$CA" -u "kr:$KR_TOKEN" -H "Accept: $MT" \
	-o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@"; }
as_jp() { curl -sS -g --cacert "$CA" --cert "$TMP/jp.crt" --key "$TMP/jp.key" -H "Accept: $MT" \
	-o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@"; }

# the node notices partners.yaml within about a second
for _ in $(seq 1 50); do
	[ "$(as_us "$URL")" = 200 ] && break
	sleep 0.1
done
check "us token accepted" [ "$(as_us "$URL")" = 200 ]
check "kr basic token accepted" [ "$(as_kr "$URL")" = 200 ]
check "jp certificate accepted" [ "$(as_jp "$URL")" = 200 ]

ids() { jq -r '[.objects[]?.id] | sort | join(" ")' "$TMP/body"; }
n() { printf 'indicator--%08d-0000-4000-8000-000000000000' "$1"; }
# us (AMBER+STRICT): unmarked(=AMBER), CLEAR, GREEN, AMBER, AMBER+STRICT; not RED
check "us objects 200" [ "$(as_us "$OBJ")" = 200 ]
check "us sees 1-5" [ "$(ids)" = "$(n 1) $(n 2) $(n 3) $(n 4) $(n 5)" ]
# jp (GREEN): CLEAR, GREEN
check "jp objects 200" [ "$(as_jp "$OBJ")" = 200 ]
check "jp sees 2-3" [ "$(ids)" = "$(n 2) $(n 3)" ]
# kr (CLEAR): CLEAR only, and anonymised
check "kr objects 200" [ "$(as_kr "$OBJ")" = 200 ]
check "kr sees 2" [ "$(ids)" = "$(n 2)" ]
check "kr gets the neutral identity" [ "$(jq -r '.objects[0].created_by_ref' "$TMP/body")" = "identity--0d6a2d3b-8a0f-5c5e-9d0b-3f6f6c8b2a10" ]
as_us "$OBJ" >/dev/null
check "us sees the submitter" [ "$(jq -r '.objects[0].created_by_ref' "$TMP/body")" = "$SUBMITTER" ]
# paging hides withheld objects: limit=1 gives jp exactly two pages
check "jp page 1" [ "$(as_jp "$OBJ?limit=1")" = 200 ]
check "jp page 1 has more" [ "$(jq -r .more "$TMP/body")" = true ]
NEXT=$(jq -r .next "$TMP/body")
check "jp page 2" [ "$(as_jp "$OBJ?limit=1&next=$NEXT")" = 200 ]
check "jp page 2 is the last" [ "$(jq -r .more "$TMP/body")" = false ]
check "jp page 2 is GREEN" [ "$(ids)" = "$(n 3)" ]
# object, versions, manifest of a withheld object: as if absent
check "jp AMBER object 404" [ "$(as_jp "$OBJ$(n 4)/")" = 404 ]
check "jp AMBER versions 404" [ "$(as_jp "$OBJ$(n 4)/versions/")" = 404 ]
check "jp manifest 200" [ "$(as_jp "$BASE/api1/collections/$COLL/manifest/")" = 200 ]
check "jp manifest lists 2" [ "$(jq '.objects | length' "$TMP/body")" = 2 ]
check "us RED object 404" [ "$(as_us "$OBJ$(n 6)/")" = 404 ]

# --- writes: us may write, kr and jp may not; a partner's status is its own
indicator 100 green >"$TMP/o.json"
printf '{"objects":[%s]}' "$(cat "$TMP/o.json")" >"$TMP/us.env"
check "us posts 202" [ "$(as_us -X POST -H "Content-Type: $MT" --data-binary @"$TMP/us.env" "$OBJ")" = 202 ]
SID=$(jq -r .id "$TMP/body")
check "us reads its status" [ "$(as_us "$BASE/api1/status/$SID/")" = 200 ]
check "jp cannot read us's status" [ "$(as_jp "$BASE/api1/status/$SID/")" = 404 ]
check "admin cannot read us's status" [ "$(curl -sS --cacert "$CA" -u "$CRED" -o /dev/null -w '%{http_code}' "$BASE/api1/status/$SID/")" = 404 ]
check "kr write 403" [ "$(as_kr -X POST -H "Content-Type: $MT" --data-binary @"$TMP/us.env" "$OBJ")" = 403 ]
check "us delete 403" [ "$(as_us -X DELETE "$OBJ$(n 2)/")" = 403 ]
# us's GREEN object goes to jp (same community) but not to kr (another one)
check "jp sees us's GREEN" [ "$(as_jp "$OBJ$(n 100)/")" = 200 ]
check "kr does not" [ "$(as_kr "$OBJ$(n 100)/")" = 404 ]

# --- attacks
check "guessed token 401" [ "$(curl -sS --cacert "$CA" -H "Authorization: Bearer cpt_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" -o /dev/null -w '%{http_code}' "$URL")" = 401 ]
WRONG="cpt_$(echo "$US_TOKEN" | cut -d_ -f2)_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check "wrong secret 401" [ "$(curl -sS --cacert "$CA" -H "Authorization: Bearer $WRONG" -o /dev/null -w '%{http_code}' "$URL")" = 401 ]
check "kr token under us's name 401" [ "$(curl -sS --cacert "$CA" -u "us:$KR_TOKEN" -o /dev/null -w '%{http_code}' "$URL")" = 401 ]
# a self-signed certificate and one expired, both with jp's key
cat >"$TMP/self.tmpl" <<EOF
cn = "jp-node"
organization = "JMOD"
tls_www_client
signing_key
expiration_days = 30
EOF
certtool --generate-self-signed --load-privkey "$TMP/jp.key" --template "$TMP/self.tmpl" \
	--outfile "$TMP/self.crt" 2>/dev/null
cat >"$TMP/old.tmpl" <<EOF
cn = "jp-node"
organization = "JMOD"
tls_www_client
signing_key
activation_date = "2020-01-01 00:00:00"
expiration_date = "2021-01-01 00:00:00"
EOF
certtool --generate-certificate --load-privkey "$TMP/jp.key" --load-ca-certificate "$CA" \
	--load-ca-privkey "$D/pki/ca.key" --template "$TMP/old.tmpl" --outfile "$TMP/old.crt" 2>/dev/null
# GnuTLS may refuse the handshake itself (curl exit code, status 000) or the node
# answers 401; either way nothing is served
code=$(curl -sS --cacert "$CA" --cert "$TMP/self.crt" --key "$TMP/jp.key" -o /dev/null -w '%{http_code}' "$OBJ" 2>/dev/null)
check "self-signed certificate refused ($code)" [ "$code" = 401 -o "$code" = 000 ]
code=$(curl -sS --cacert "$CA" --cert "$TMP/old.crt" --key "$TMP/jp.key" -o /dev/null -w '%{http_code}' "$OBJ" 2>/dev/null)
check "expired certificate refused ($code)" [ "$code" = 401 -o "$code" = 000 ]
# path tricks: nothing outside the TAXII tree, encoded ids are ids
check "traversal 404" [ "$(as_us --path-as-is "$BASE/api1/collections/$COLL/../../../etc/passwd")" = 404 ]
check "encoded traversal 404" [ "$(as_us "$BASE/api1/collections/%2e%2e%2f%2e%2e/objects/")" = 404 ]
check "encoded id 404" [ "$(as_jp "$OBJ$(n 4 | sed 's/-/%2d/g')/")" = 404 ]
# revocation: the token stops working as soon as the node has reloaded
US_TID=$(echo "$US_TOKEN" | cut -d_ -f2)
check "revoke us token" cli partner revoke-token us "$US_TID"
for _ in $(seq 1 50); do
	[ "$(as_us "$URL")" = 401 ] && break
	sleep 0.1
done
check "revoked token 401" [ "$(as_us "$URL")" = 401 ]
# a broken partners file is refused; the partners loaded before stay
cp "$D/partners.yaml" "$TMP/partners.good"
echo "partners: [ {name: " >"$D/partners.yaml"
sleep 1.5
check "broken file: jp still served" [ "$(as_jp "$OBJ")" = 200 ]
cp "$TMP/partners.good" "$D/partners.yaml"

# --- audit: every refusal and release is recorded, and the chain holds
sleep 0.3
stop
# --- policy explain: the gate's decision as a dry run, with the reason
explain() { "$CP" policy explain --data-dir "$D" "$@" >"$TMP/explain.out" 2>"$TMP/explain.err"; }
explain --partner jp --object "$(n 4)"
check "explain: AMBER withheld from jp (exit 1)" [ $? = 1 ]
check "explain: reason tlp-ceiling" grep -q 'WITHHOLD (tlp-ceiling)' "$TMP/explain.out"
check "explain: AMBER released to us" explain --partner us --object "$(n 4)"
check "explain: says release" grep -q 'RELEASE (ok)' "$TMP/explain.out"
explain --partner kr --object "$(n 100)"
check "explain: us's GREEN not to kr" grep -q 'WITHHOLD' "$TMP/explain.out"
check "explain: names the origin" grep -q 'from us' "$TMP/explain.out"
check "explain --json" explain --partner us --object "$(n 2)" --json
check "explain json decision" [ "$(jq -r .decision "$TMP/explain.out")" = release ]
explain --partner nobody --object "$(n 2)"
check "explain: unknown partner withheld" [ $? = 1 ]
check "explain: unknown partner reason" grep -q 'no-agreement' "$TMP/explain.out"
explain --partner us --object "indicator--99999999-0000-4000-8000-000000000000"
check "explain: absent object exit 1" [ $? = 1 ]
explain --object "$(n 2)"
check "explain: usage error exit 2" [ $? = 2 ]

audit() { "$CP" audit --data-dir "$D" "$@" >"$TMP/audit.out" 2>"$TMP/audit.err"; }
verify() { "$CP" audit verify --data-dir "$D" >"$TMP/audit.out" 2>"$TMP/audit.err"; }
check "audit lists" audit
check "audit: release to us" grep -q 'release.*us' "$TMP/audit.out"
check "audit: withhold from jp" audit --partner jp --kind withhold
check "audit: jp withheld AMBER" grep -q 'withhold' "$TMP/audit.out"
check "audit by object" audit --object "$(n 4)"
check "audit by object finds it" grep -q 'jp' "$TMP/audit.out"
audit --kind deny
for reason in unknown-token bad-secret revoked-token status-not-owner collection-read-only partner-delete not-found; do
	check "audit deny $reason" grep -q -- "$reason" "$TMP/audit.out"
done
check "audit: certificate refusals" grep -Eq 'bad-certificate|unknown-certificate' "$TMP/audit.out"
check "audit: admin changes" audit --kind admin
check "audit: admin records" grep -q 'partner add' "$TMP/audit.out"
check "audit verify ok" verify
check "verify says intact" grep -q 'intact' "$TMP/audit.out"
sqlite3 "$D/audit.db" "UPDATE records SET reason = 'tampered' WHERE seq = 3"
verify
check "audit verify detects tampering" [ $? = 1 ]
check "verify names the record" grep -qw '3' "$TMP/audit.out" "$TMP/audit.err"

summary partners
