#!/usr/bin/env bash
# Runs the whole test suite: starts the Mongo-compatible test server (built
# once, then reused) and runs every package's tests with the race detector.
# Extra arguments go to `go test` (for example -run or -count).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x scripts/mongo-test-server.sh ] || [ -f scripts/mongo-test-server.sh ]; then
	uri=$(bash scripts/mongo-test-server.sh | tail -n 1)
	export MONGODB_URI="$uri"
	echo "mongo test server: $MONGODB_URI" >&2
fi

go test -race -timeout 20m "$@" ./...
