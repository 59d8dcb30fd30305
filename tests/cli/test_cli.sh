#!/bin/sh
# CLI contract of `cyberpact validate`: output format and exit statuses.
set -u
CP="$1"
echo "cli tests: $CP"
