#!/usr/bin/env bash
# Fan-out of the live stream (`GET /v1/stream`): SUBSCRIBERS (1000) concurrent SSE streams on
# 127.0.0.1 against the real router and stream hub (in-process bus, memory store) in a
# process of their own; EVENTS (200) quotes published GAP_MS (20) ms apart. Prints the
# fan-out latency (publish → read by the subscriber, over every delivery) at p50/p99/max, the
# streams dropped, and the server's resident memory per open stream (VmRSS delta / streams).
# Loopback only; every wait is bounded (the subscribers give up after 120 s).
#
#   bench/stream-fanout.sh
#   SUBSCRIBERS=2000 EVENTS=100 bench/stream-fanout.sh
#   PROFILE=dev bench/stream-fanout.sh      # a debug build (slower; quicker to build)
set -euo pipefail

SUBSCRIBERS=${SUBSCRIBERS:-1000}
EVENTS=${EVENTS:-200}
GAP_MS=${GAP_MS:-20}
PROFILE=${PROFILE:-release}

if ! [ "$SUBSCRIBERS" -ge 1 ] 2>/dev/null || [ "$SUBSCRIBERS" -gt 10000 ]; then
  echo "bench: SUBSCRIBERS must be 1 to 10000" >&2
  exit 2
fi
if ! [ "$EVENTS" -ge 1 ] 2>/dev/null || [ "$EVENTS" -gt 10000 ]; then
  echo "bench: EVENTS must be 1 to 10000" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
cargo run --quiet --profile "$PROFILE" -p stream-fanout -- "$SUBSCRIBERS" "$EVENTS" "$GAP_MS"
