#!/usr/bin/env bash
# bench/sync.sh: federation figures (docs/PERFORMANCE.md, "Sync").
#   1. catch-up: node A holds N objects (default 100,000, loaded with taxii_load);
#      `cyberpact sync run` on node B pulls all of them in one pass: objects/s and
#      the peak memory of that process. Baseline in the same run: the same walk over
#      A's collection by taxii_load (reading only, storing nothing).
#   2. propagation: ROUNDS times (default 40) one indicator is posted at A and the
#      time until it is readable at B and at C (through B) is measured by polling
#      every 20 ms, with
#      a) pulls: B pulls A and C pulls B, each every INTERVAL seconds (default 1);
#      b) pushes: A pushes to B and B pushes to C (a stored object wakes the push at
#         once), with the pulls of (a) still configured.
#
# usage: bench/sync.sh [BUILD_DIR]   (default build-bench, a release build)
# environment: N=objects  INTERVAL=seconds  ROUNDS=n  KEEP=1
set -u
BUILD=${1:-build-bench}
CP="$BUILD/cyberpact"
LOAD="$BUILD/bench/taxii_load"
N=${N:-100000}
INTERVAL=${INTERVAL:-1}
ROUNDS=${ROUNDS:-40}
TMP=$(mktemp -d /tmp/cp-bench-sync-XXXXXX)
declare -A PID PORT COLL
MT='application/taxii+json;version=2.1'

for f in "$CP" "$LOAD" /usr/bin/time; do
	[ -x "$f" ] || { echo "sync.sh: $f is missing" >&2; exit 2; }
done
cleanup() {
	for n in a b c; do [ -n "${PID[$n]:-}" ] && kill -TERM "${PID[$n]}" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
start() {
	"$CP" serve --data-dir "$TMP/$1" --listen "127.0.0.1:${PORT[$1]}" >"$TMP/$1.out" 2>>"$TMP/$1.log" &
	PID[$1]=$!
	for _ in $(seq 1 100); do
		grep -q '^cyberpact: node listening' "$TMP/$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "node $1 did not start" >&2; exit 1
}
stop() { kill -TERM "${PID[$1]}"; wait "${PID[$1]}" 2>/dev/null; PID[$1]=""; }
tok() { grep -o 'cpt_[0-9a-f]\{8\}_[A-Za-z0-9_-]\{43\}'; }
pull_cfg() { # pull_cfg NODE FROM INTERVAL
	printf 'peers:\n  - name: %s\n    url: https://127.0.0.1:%s/api1/\n    cacert: %s\n    token_file: peers/%s.token\n    pull:\n      - {remote: %s, local: default, interval: %s}\n' \
		"$2" "${PORT[$2]}" "$TMP/$2/pki/ca.crt" "$2" "${COLL[$2]}" "$3" >>"$TMP/$1/cyberpact.yaml"
}

for n in a b c; do
	PORT[$n]=$(free_port)
	start $n
	COLL[$n]=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$TMP/$n/cyberpact.yaml" | head -n 1)
	stop $n
	mkdir -p "$TMP/$n/peers"
done
"$CP" partner add b --data-dir "$TMP/a" --read '*' --tlp-ceiling amber --token | tok >"$TMP/b/peers/a.token"
"$CP" partner add c --data-dir "$TMP/b" --read '*' --tlp-ceiling amber --third-party \
	--community bench --token | tok >"$TMP/c/peers/b.token"
# B passes A's GREEN on to C only within one community, and only knowing A's terms
"$CP" partner add a --data-dir "$TMP/b" --community bench >/dev/null
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

echo "== 1. catch-up: $N objects at A, one 'sync run' at B"
start a
"$LOAD" ingest --url "https://127.0.0.1:${PORT[a]}/taxii2/" --collection "${COLL[a]}" \
	--credentials "$TMP/a/credentials" --cacert "$TMP/a/pki/ca.crt" --envelope 1000 \
	--objects "$N" --clients 4 2>&1 | grep -E '^ingest' | sed 's/^/  load: /'
"$LOAD" get --url "https://127.0.0.1:${PORT[a]}/taxii2/" --collection "${COLL[a]}" \
	--credentials "$TMP/a/credentials" --cacert "$TMP/a/pki/ca.crt" --clients 1 --requests 1 \
	2>&1 | grep -E '^walk' | sed 's/^/  baseline (read only): /'
pull_cfg b a 3600
/usr/bin/time -f '%e %M' -o "$TMP/time" "$CP" sync run --data-dir "$TMP/b" --quiet
read -r secs rss <"$TMP/time"
got=$(sqlite3 "$TMP/b/store.db" 'SELECT count(*) FROM objects')
echo "  sync run: $got objects in $secs s = $(awk -v n="$got" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') objects/s, peak RSS $((rss / 1024)) MB"

echo "== 2. propagation A -> B -> C, pull interval ${INTERVAL} s, $ROUNDS rounds"
sed -i '/^peers:/,$d' "$TMP/b/cyberpact.yaml"
pull_cfg b a "$INTERVAL"
pull_cfg c b "$INTERVAL"
start b
start c
# C first catches up with B's backlog; the rounds measure fresh objects only
for _ in $(seq 1 600); do
	[ "$(sqlite3 "$TMP/c/store.db" 'PRAGMA busy_timeout=5000; SELECT count(*) FROM objects' | tail -n 1)" -ge "$N" ] && break
	sleep 0.5
done
echo "  C caught up with $(sqlite3 "$TMP/c/store.db" 'PRAGMA busy_timeout=5000; SELECT count(*) FROM objects' | tail -n 1) objects first"
post() {
	curl -sS --cacert "$TMP/a/pki/ca.crt" -u "$(cat "$TMP/a/credentials")" -H "Accept: $MT" \
		-H "Content-Type: $MT" --data-binary "$1" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:${PORT[a]}/api1/collections/${COLL[a]}/objects/"
}
seen() { # seen NODE ID
	[ "$(curl -sS --cacert "$TMP/$1/pki/ca.crt" -u "$(cat "$TMP/$1/credentials")" -H "Accept: $MT" \
		-o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:${PORT[$1]}/api1/collections/${COLL[$1]}/objects/$2/")" = 200 ]
}
pct() { sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }'; }
now_ms() { date +%s%3N; }
measure() { # measure LABEL
	: >"$TMP/lat_b"
	: >"$TMP/lat_c"
	for r in $(seq 1 "$ROUNDS"); do
		id=indicator--$(cat /proc/sys/kernel/random/uuid)
		body='{"objects":[{"type":"indicator","spec_version":"2.1","id":"'$id'","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'203.0.113.'$((r % 250))''"'"']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}]}'
		t0=$(now_ms)
		[ "$(post "$body")" = 202 ] || { echo "post failed"; exit 1; }
		tb=""
		tc=""
		while [ -z "$tc" ]; do
			[ -z "$tb" ] && seen b "$id" && tb=$(($(now_ms) - t0))
			[ -n "$tb" ] && seen c "$id" && tc=$(($(now_ms) - t0))
			[ $(($(now_ms) - t0)) -gt 30000 ] && { echo "round $r: not propagated in 30 s"; exit 1; }
			sleep 0.02
		done
		echo "$tb" >>"$TMP/lat_b"
		echo "$tc" >>"$TMP/lat_c"
		sleep 0.$((RANDOM % 10))
	done
	echo "  $1"
	echo "    at B (one hop):  p50 $(pct "$TMP/lat_b" 50) ms  p99 $(pct "$TMP/lat_b" 99) ms  max $(pct "$TMP/lat_b" 100) ms"
	echo "    at C (two hops): p50 $(pct "$TMP/lat_c" 50) ms  p99 $(pct "$TMP/lat_c" 99) ms  max $(pct "$TMP/lat_c" 100) ms"
}
measure "a) pulls every ${INTERVAL} s"

# b) A pushes to B and B to C: each side lets the other write, with a token
for n in a b c; do stop $n; done
"$CP" partner set a --data-dir "$TMP/b" --write '*' >/dev/null
"$CP" partner issue-token a --data-dir "$TMP/b" | tok >"$TMP/a/peers/b.token"
"$CP" partner add b --data-dir "$TMP/c" --write '*' --token | tok >"$TMP/b/peers/c.token"
push_cfg() { # push_cfg NODE TO
	printf '%s\n  - name: %s\n    url: https://127.0.0.1:%s/api1/\n    cacert: %s\n    token_file: peers/%s.token\n    push:\n      - {local: default, remote: %s, interval: 60}\n' \
		"$(grep -q '^peers:' "$TMP/$1/cyberpact.yaml" || echo peers:)" "$2" "${PORT[$2]}" \
		"$TMP/$2/pki/ca.crt" "$2" "${COLL[$2]}" | sed '/^$/d' >>"$TMP/$1/cyberpact.yaml"
}
push_cfg a b
push_cfg b c
for n in a b c; do start $n; done
# the pushes first send the backlog (already there: no-ops at the receiver)
for n in a b; do
	for _ in $(seq 1 600); do
		"$CP" sync status --data-dir "$TMP/$n" --json 2>/dev/null |
			jq -e 'select(.direction == "push") | .caught_up != ""' >/dev/null && break
		sleep 0.5
	done
done
measure "b) pushes on write (pulls every ${INTERVAL} s still configured)"
