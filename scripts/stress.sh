#!/usr/bin/env bash
# Stress a RUNNING stockd with a mix of cached reads, cold symbols and error paths (wrk + the
# Lua script next to this file), bounded in time and in requests, and print throughput, latency
# percentiles and counts per status.
#
#   scripts/stress.sh                                  # http://127.0.0.1:8080, 10 s, ≤ 100,000 requests
#   TARGET=http://127.0.0.1:18080 DURATION=30s CONNECTIONS=64 scripts/stress.sh
#
# Only loopback targets are accepted: load tests against someone else's server are an attack.
# STRESS_ALLOW_REMOTE=1 overrides that for a machine you own. Limits: DURATION ≤ 300 s,
# MAX_REQUESTS ≤ 10,000,000.
set -euo pipefail

TARGET=${TARGET:-http://127.0.0.1:8080}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
MAX_REQUESTS=${MAX_REQUESTS:-100000}

cd "$(dirname "$0")"

host=$(printf '%s' "$TARGET" | sed -E 's#^[a-zA-Z]+://##; s#/.*$##; s#^\[([^]]+)\].*#\1#; s#:[0-9]+$##')
case "$host" in
  127.*|localhost|::1) ;;
  *)
    if [ "${STRESS_ALLOW_REMOTE:-}" != 1 ]; then
      echo "stress: refusing non-loopback target '$host' (set STRESS_ALLOW_REMOTE=1 for a machine you own)" >&2
      exit 2
    fi
    ;;
esac

seconds=$(printf '%s' "$DURATION" | sed -E 's/s$//')
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -gt 300 ] || [ "$seconds" -lt 1 ]; then
  echo "stress: DURATION must be 1s to 300s, got '$DURATION'" >&2
  exit 2
fi
if ! [[ "$MAX_REQUESTS" =~ ^[0-9]+$ ]] || [ "$MAX_REQUESTS" -gt 10000000 ] || [ "$MAX_REQUESTS" -lt 1 ]; then
  echo "stress: MAX_REQUESTS must be 1 to 10000000, got '$MAX_REQUESTS'" >&2
  exit 2
fi

if ! command -v wrk >/dev/null; then
  echo "stress: wrk is required (apt-get install wrk)" >&2
  exit 1
fi
if ! curl -fsS --max-time 5 "$TARGET/health" >/dev/null; then
  echo "stress: $TARGET/health does not answer: start stockd first (stockd serve --bind 127.0.0.1)" >&2
  exit 1
fi

per_thread=$(( (MAX_REQUESTS + THREADS - 1) / THREADS ))
echo "stress: $TARGET for ${seconds}s, $CONNECTIONS connections, at most $MAX_REQUESTS requests"
STRESS_MAX_REQUESTS_PER_THREAD=$per_thread \
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 5s --latency -s stress.lua "$TARGET"
