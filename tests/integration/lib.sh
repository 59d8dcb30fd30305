# Shared by the integration tests (sourced): counters, check, waiting, free ports.
# The sourcing script sets CP (the binary) and TMP (its temporary directory).
pass=0
fail=0
MT='application/taxii+json;version=2.1'

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...: count a pass if COMMAND succeeds
	local what="$1"; shift
	if "$@"; then ok; else bad "$what"; fi
}
wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
	local deadline=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.5
	done
}
free_port() { # a loopback TCP port nothing answers on
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo 0
}
summary() { # summary NAME: print the counts; succeed only without failures
	echo "$1: $pass passed, $fail failed"
	[ "$fail" = 0 ]
}
