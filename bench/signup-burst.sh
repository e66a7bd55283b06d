#!/usr/bin/env bash
# Memory of `stockd serve` under a burst of registrations: BURST (300) `POST /v1/auth/register`
# sent CONCURRENCY (64) at a time from loopback, each a new email with a strong password, so
# every one costs an argon2id hash (19 MiB, 2 passes). Prints the answers by status, the wall
# time, and the server's resident memory from /proc before the burst (VmRSS), after it (VmRSS)
# and at its peak (VmHWM).
#
# The per-address registration limit is off by default here (SIGNUPS_PER_ADDRESS=0), so the
# burst measures the password hashing pool; set it to 5 to see the limit answer 429 instead.
# Loopback only; bounded by BURST (at most 2000) and curl's --max-time.
#
#   bench/signup-burst.sh
#   SIGNUPS_PER_ADDRESS=5 bench/signup-burst.sh
#   STOCKD_BIN=/tmp/old/stockd bench/signup-burst.sh   # measure another build
#   SKIP_BUILD=1 bench/signup-burst.sh                 # use target/release/stockd as it is
set -euo pipefail

BURST=${BURST:-300}
CONCURRENCY=${CONCURRENCY:-64}
SIGNUPS_PER_ADDRESS=${SIGNUPS_PER_ADDRESS:-0}
STOCKD_PORT=${STOCKD_PORT:-18098}
STOCKD_BIN=${STOCKD_BIN:-./target/release/stockd}

if ! [ "$BURST" -ge 1 ] 2>/dev/null || [ "$BURST" -gt 2000 ]; then
  echo "bench: BURST must be 1 to 2000" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
. bench/lib.sh

if [ "${SKIP_BUILD:-}" != 1 ] && [ "$STOCKD_BIN" = ./target/release/stockd ]; then
  echo "building the release binary…" >&2
  cargo build --release --quiet -p stockd
fi

work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

STOCKD_DATA_DIR="$work" STOCKD_SIGNUPS_PER_ADDRESS="$SIGNUPS_PER_ADDRESS" \
  STOCKD_INGEST_WORKERS=0 STOCKD_LOG=warn \
  "$STOCKD_BIN" serve --bind 127.0.0.1 --port "$STOCKD_PORT" >"$work/stockd.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$STOCKD_PORT"
wait_for "$base/health"

kib() { awk -v field="$1:" '$1 == field { print $2 }' "/proc/$pid/status"; }
mib() { awk -v kib="$1" 'BEGIN { printf "%.0f MiB", kib / 1024 }'; }

before=$(kib VmRSS)
started=$(date +%s.%N)
seq 1 "$BURST" | xargs -P "$CONCURRENCY" -I{} \
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 120 -X POST "$base/v1/auth/register" \
  -H 'content-type: application/json' \
  -d '{"email":"burst{}@example.com","password":"plum orbit lantern fjord"}' >"$work/codes" || true
finished=$(date +%s.%N)
after=$(kib VmRSS)
peak=$(kib VmHWM)

echo "binary:      $STOCKD_BIN"
echo "burst:       $BURST registrations, $CONCURRENCY at a time, signups_per_address=$SIGNUPS_PER_ADDRESS"
echo "answers:     $(sort "$work/codes" | uniq -c | awk '{ printf "%s× %s  ", $1, $2 }')"
echo "wall time:   $(awk -v a="$started" -v b="$finished" 'BEGIN { printf "%.1f s", b - a }')"
echo "RSS before:  $(mib "$before")"
echo "RSS after:   $(mib "$after")"
echo "RSS peak:    $(mib "$peak")"
