#!/usr/bin/env bash
# bench/ingest-ab.sh: compare the durable ingest of two cyberpact binaries in one run
# (docs/PERFORMANCE.md). Each round starts a fresh node with each binary in turn and
# loads N objects in envelopes of 1000 with 1 and then 4 clients (taxii_load), so
# that the shared machine's drift hits both alike.
#
# usage: bench/ingest-ab.sh OLD_BINARY NEW_BINARY [N [ROUNDS]]   (60000, 2)
# e.g.   cp build-bench/cyberpact /tmp/cp-old; (change, ninja -C build-bench);
#        bench/ingest-ab.sh /tmp/cp-old build-bench/cyberpact
set -u
OLD=$1
NEW=$2
N=${3:-60000}
ROUNDS=${4:-2}
LOAD=${LOAD:-build-bench/bench/taxii_load}
[ -x "$LOAD" ] || { echo "ingest-ab.sh: $LOAD is missing (ninja -C build-bench)" >&2; exit 2; }

one() { # one LABEL BINARY
	local T PID URL COLL
	T=$(mktemp -d /tmp/cp-ab-XXXXXX)
	"$2" serve --data-dir "$T/node" --listen 127.0.0.1:0 >"$T/out.log" 2>"$T/server.log" &
	PID=$!
	URL=""
	for _ in $(seq 100); do
		URL=$(sed -n 's/^cyberpact: node listening: \(https:[^ ]*\)$/\1/p' "$T/out.log")
		[ -n "$URL" ] && break
		sleep 0.1
	done
	COLL=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$T/node/cyberpact.yaml" | head -n 1)
	echo "-- $1 ($2)"
	"$LOAD" ingest --url "$URL" --collection "$COLL" --credentials "$T/node/credentials" \
		--cacert "$T/node/pki/ca.crt" --pid "$PID" --envelope 1000 --objects "$N" \
		--clients 1,4 2>&1 | grep -E "^ingest|cpu:" | sed -E 's/\(.*untimed\) //; s/, [0-9.]+ MB\/s//'
	kill -TERM "$PID"
	wait "$PID"
	rm -rf "$T"
}
for _ in $(seq 1 "$ROUNDS"); do
	one old "$OLD"
	one new "$NEW"
done
