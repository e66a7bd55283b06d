#!/usr/bin/env bash
# Instructions per cached request, counted by callgrind: unlike req/s on a shared 2-core
# machine, the count is the same run after run, so small differences between two builds (or
# two configurations of one build) show. Each server runs under `valgrind --tool=callgrind`
# twice, once answering FEW and once MANY sequential keep-alive `GET /MSFT/7` (cache hits);
# (instructions(MANY) - instructions(FEW)) / (MANY - FEW) is the cost of one request with
# start-up and shutdown cancelled out. Loopback only; each run is bounded by its request count.
#
#   bench/instructions.sh                                   # stockd as built, no collector,
#                                                           # beside the bare-axum ceiling
#   BASELINE=/tmp/stockd-before bench/instructions.sh       # and another build beside it
#   EXPORT=1 bench/instructions.sh                          # and with OTLP export to a sink
#   KEEP=/tmp/prof bench/instructions.sh                    # keep each MANY run's profile
#                                                           # (callgrind_annotate reads it)
set -euo pipefail

FEW=${FEW:-2000}
MANY=${MANY:-12000}
PORT=${PORT:-18084}
SINK_PORT=${SINK_PORT:-18083}
PATH_UNDER_TEST=/MSFT/7

cd "$(dirname "$0")/.."
. bench/lib.sh
command -v valgrind >/dev/null || { echo "bench: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "building the release binary…" >&2
  cargo build --release --quiet -p stockd -p ceiling
fi
bin=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d)
sink_pid=""
cleanup() {
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# An OTLP/HTTP sink answering 200 to every export, for EXPORT=1.
start_otlp_sink "$SINK_PORT" "$work/sink.count"

# Runs `binary` under callgrind, sends `count` requests, stops it with SIGTERM and prints the
# total instruction count of all its threads.
count_instructions() { # binary count [env...]
  local binary=$1 count=$2; shift 2
  local dir="$work/run-$RANDOM"
  mkdir -p "$dir/data"
  # One load generator is one client address: the per-client read limit is raised (still
  # checked on every request) so it measures answers, not 429s; see bench/run.sh.
  # The ceiling takes its address as its one argument and has no /ready: it is ready when it
  # answers the path itself.
  local args=(serve --bind 127.0.0.1 --port "$PORT") ready=/ready
  if [ "$(basename "$binary")" = ceiling ]; then args=("127.0.0.1:$PORT"); ready=$PATH_UNDER_TEST; fi
  env STOCKD_DATA_DIR="$dir/data" STOCKD_LOG_FORMAT=json APIKEY= STOCKD_PROVIDER=sample \
    STOCKD_LIMITS__READ_RATE_PER_SECOND=1000000 STOCKD_LIMITS__READ_BURST=1000000 "$@" \
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" --separate-threads=no \
    "$binary" "${args[@]}" >"$dir/log" 2>&1 &
  local pid=$!
  python3 - "$PORT" "$PATH_UNDER_TEST" "$count" "$ready" <<'PY'
import http.client, sys, time
port, path, count, ready = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
deadline = time.time() + 120
while True:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", ready); conn.getresponse().read()
        break
    except OSError:
        if time.time() > deadline: sys.exit("server did not start under valgrind")
        time.sleep(0.5)
conn.request("GET", path); conn.getresponse().read()   # fill the cache
for _ in range(count):
    conn.request("GET", path)
    response = conn.getresponse(); response.read()
    assert response.status == 200, response.status
PY
  kill -TERM "$pid"
  wait "$pid" || true
  # One file per process; its `summary:` line is the total (`totals:` repeats it: counting both
  # doubled every figure before 2026-12-04).
  awk '/^summary:/ {total += $2} END {print total}' "$dir"/callgrind.out.*
}

per_request() { # label binary [env...]
  local label=$1 binary=$2; shift 2
  echo "$label: $FEW then $MANY requests under callgrind…" >&2
  local few many
  few=$(count_instructions "$binary" "$FEW" "$@")
  many=$(count_instructions "$binary" "$MANY" "$@")
  python3 -c "print(f'{\"$label\":38} {($many - $few) / ($MANY - $FEW):12,.0f}')"
  [ -z "${KEEP:-}" ] || cp "$(ls -t "$work"/run-*/callgrind.out.* | head -1)" "$KEEP.$(echo "$label" | tr -cs "a-z0-9" -)out"
}

echo
echo "instructions per cached GET $PATH_UNDER_TEST (callgrind, ($MANY - $FEW) requests)"
per_request "ceiling (bare axum)" "$bin/ceiling"
per_request "stockd, no collector" "$bin/stockd"
if [ -n "${BASELINE:-}" ]; then
  per_request "baseline $(basename "$BASELINE")" "$BASELINE"
fi
if [ "${EXPORT:-}" = 1 ]; then
  per_request "stockd, exporting every span" "$bin/stockd" \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT"
fi
