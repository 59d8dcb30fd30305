#!/usr/bin/env bash
# bench/taxii.sh: load benchmark of the node's TAXII 2.1 server (docs/PERFORMANCE.md,
# "TAXII server under load"). Starts a node with a fresh data directory under /tmp on
# an ephemeral loopback port, drives it with bench/taxii_load (libcurl, HTTPS, Basic
# auth, kept-alive connections), stops it, and prints every figure.
#
# usage: bench/taxii.sh [BUILD_DIR]        (default build-bench; a release build)
# environment:
#   BIG=N        objects stored for the large GET phase (default 1000000)
#   PERF=1       record `perf` profiles of the server during the large phases
#   KEEP=1       keep the temporary directory (store, logs, profiles)
#
# Phases:
#   1. discovery baseline (TLS + HTTP + auth, no store) with 1, 8 and 64 clients;
#   2. ingest into the fresh store exactly as the node creates it;
#   3. the store gets planner statistics (`sqlite3 store.db ANALYZE` with the node
#      stopped) and the node restarts: see docs/PERFORMANCE.md for why;
#   4. the ingest matrix: envelopes of 100 and 1000, 1 and 8 clients, up to 100,000;
#   5. GET pages at 100,000 stored objects with 1, 8 and 64 clients;
#   6. loading up to BIG objects (envelopes of 1000, 8 clients), timed;
#   7. GET pages at BIG stored objects with 1, 8 and 64 clients;
#   8. ingest at BIG stored objects, envelopes of 1000 and 100, 1, 8 and 64 clients.
# Each phase also prints the server's own handling time (from its request log), so the
# difference to the client's latency is TLS, HTTP and queueing.
set -u
BUILD=${1:-build-bench}
CP="$BUILD/cyberpact"
LOAD="$BUILD/bench/taxii_load"
BIG=${BIG:-1000000}
TMP=$(mktemp -d /tmp/cp-bench-XXXXXX)
PID=""
PERF_PID=""
FAILED=0

for f in "$CP" "$LOAD"; do
	[ -x "$f" ] || { echo "taxii.sh: $f is missing: ninja -C $BUILD" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "taxii.sh: needs the sqlite3 command (apt-get install sqlite3)" >&2; exit 2; }

cleanup() {
	[ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

start() {
	: >"$TMP/out.log"
	"$CP" serve --data-dir "$TMP/node" --listen 127.0.0.1:0 >"$TMP/out.log" 2>>"$TMP/server.log" &
	PID=$!
	URL=""
	for _ in $(seq 1 100); do
		URL=$(sed -n 's/^cyberpact: node listening: \(https:[^ ]*\)$/\1/p' "$TMP/out.log")
		[ -n "$URL" ] && break
		kill -0 "$PID" 2>/dev/null || { echo "node died:"; tail "$TMP/server.log"; exit 1; }
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "node did not start"; exit 1; }
	COLL=$(sed -n 's/^ *- id: \([0-9a-f-]*\)$/\1/p' "$TMP/node/cyberpact.yaml" | head -n 1)
	ARGS=(--url "$URL" --collection "$COLL" --credentials "$TMP/node/credentials"
		--cacert "$TMP/node/pki/ca.crt" --pid "$PID")
}

stop() {
	kill -TERM "$PID"
	wait "$PID"
	PID=""
}

# The server's own time per request (its log: "req=N METHOD PATH -> STATUS (B bytes, T ms)")
# for the log lines after line $1.
server_ms() {
	tail -n +"$(($1 + 1))" "$TMP/server.log" |
		sed -n 's/.*req=[0-9]* \([A-Z]*\) \([^ ]*\) -> [0-9]* ([0-9]* bytes, \([0-9.]*\) ms)$/\1 \2 \3/p' |
		awk '$2 !~ /\/taxii2\/$/ { k = $1; if (k == "GET") k = ($2 ~ /\/objects\/$/) ? "GET page" : "GET object"
			sub(/ /, "_", k); print k, $3 }' | sort -k1,1 -k2,2n |
		awk '{ m[$1] = m[$1] " " $2 }
		     END { for (k in m) { n = split(substr(m[k], 2), v, " "); s = 0
			for (i = 1; i <= n; i++) s += v[i]
			printf "    server handler ms (%s, from its log): p50 %.2f  p99 %.2f  max %.2f  mean %.2f  (%d requests)\n",
				k, v[int(n * 0.5 + 0.999999)], v[int(n * 0.99 + 0.999999)], v[n], s / n, n } }'
}

run() { # run TITLE taxii_load-arguments...
	local title="$1" mark
	shift
	echo
	echo "== $title"
	mark=$(wc -l <"$TMP/server.log")
	"$LOAD" "$@" "${ARGS[@]}" 2>&1 | grep -v '^taxii_load [a-z]*: https'
	[ "${PIPESTATUS[0]}" = 0 ] || FAILED=1
	server_ms "$mark"
}

perf_start() {
	[ "${PERF:-0}" = 1 ] || return 0
	perf record -F 499 -g -p "$PID" -o "$TMP/perf-$1.data" >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5
}

perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID"
	wait "$PERF_PID" 2>/dev/null
	PERF_PID=""
	echo "    perf profile of the server, by library:"
	perf report -i "$TMP/perf-$1.data" --no-children --sort dso -g none 2>/dev/null |
		grep '%' | head -n 8 | sed 's/^/      /'
	echo "    ... of which in system calls (self + children):"
	perf report -i "$TMP/perf-$1.data" --children --sort sym -g none 2>/dev/null |
		grep -E '\] (__libc_pwrite|__libc_pread|fdatasync|__libc_recv|__libc_sendmsg|__libc_send|epoll_wait|__GI___setsockopt|__madvise|__munmap|__mmap)$' |
		awk '{ print "      " $1, $NF }'
}

echo "machine: nproc $(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "data directory: $TMP ($(df -T "$TMP" | awk 'NR == 2 { print $2 " on " $1 }'))"
echo "node: $CP; load generator: $LOAD; BIG=$BIG"

start
echo "node at $URL (pid $PID), collection $COLL"
for c in 1 8 64; do run "1. discovery baseline, $c clients" discovery --clients $c; done

run "2. ingest into a fresh store, as the node creates it (no planner statistics)" \
	ingest --envelope 100 --objects 5000 --clients 1
run "2. (continued) the same store, envelopes of 1000" \
	ingest --envelope 1000 --objects 5000 --clients 1,1,1
stored=20000

echo
echo "== 3. ANALYZE: planner statistics for the store, node stopped and restarted"
stop
sqlite3 "$TMP/node/store.db" 'ANALYZE' || exit 1
start

for c in 1 8; do run "4. ingest matrix, envelopes of 100, $c clients" ingest --envelope 100 --objects 10000 --clients $c; done
for c in 1 8; do run "4. ingest matrix, envelopes of 1000, $c clients" ingest --envelope 1000 --objects 30000 --clients $c; done
stored=$((stored + 20000 + 60000))

for c in 1 8 64; do run "5. GET pages at $stored stored objects, $c clients" get --clients $c; done

echo
echo "== 6. loading up to $BIG objects (envelopes of 1000, 8 clients)"
# the largest size the write-ahead log reaches while the load runs
(while kill -0 "$PID" 2>/dev/null; do stat -c %s "$TMP/node/store.db-wal" 2>/dev/null; sleep 1; done |
	sort -n | tail -n 1 >"$TMP/wal-max") &
WAL_WATCH=$!
t0=$(date +%s.%N)
run "6. load" ingest --envelope 1000 --objects $((BIG - stored)) --clients 8
t1=$(date +%s.%N)
wal_now=$(stat -c %s "$TMP/node/store.db-wal" 2>/dev/null || echo 0)
stored=$BIG
echo "    load time: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s including the load generator's untimed envelope building;" \
	"store $(du -sh "$TMP/node" | cut -f1) of which the write-ahead log $(awk -v w="$wal_now" 'BEGIN { printf "%.0f MB", w / 1e6 }')"

perf_start get
for c in 1 8 64; do run "7. GET pages at $stored stored objects, $c clients" get --clients $c; done
perf_stop get

perf_start ingest
for c in 1 8; do run "8. ingest at $stored stored objects, envelopes of 1000, $c clients" ingest --envelope 1000 --objects 30000 --clients $c; done
perf_stop ingest
# 64 clients get two envelopes of 1000 or ten of 100 each
run "8. ingest at $stored stored objects, envelopes of 1000, 64 clients" ingest --envelope 1000 --objects 128000 --clients 64
for c in 1 8; do run "8. ingest at $stored stored objects, envelopes of 100, $c clients" ingest --envelope 100 --objects 20000 --clients $c; done
run "8. ingest at $stored stored objects, envelopes of 100, 64 clients" ingest --envelope 100 --objects 64000 --clients 64

stop
wait "$WAL_WATCH" 2>/dev/null
echo
echo "write-ahead log: at most $(awk '{ printf "%.0f MB", $1 / 1e6 }' "$TMP/wal-max") while the node ran"
echo "store: $(ls -l "$TMP/node/store.db" | awk '{ printf "%.0f MB", $5 / 1e6 }'), $(sqlite3 "$TMP/node/store.db" 'SELECT count(*) FROM objects') object versions"
[ "$FAILED" = 0 ] || echo "SOME REQUESTS FAILED: see above"
exit "$FAILED"
