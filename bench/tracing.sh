#!/usr/bin/env bash
# What trace export costs on the cached read path: the same release stockd serving cached
# `GET /MSFT/7`, once without a collector (the default: no exporter, request span never built)
# and once exporting every span over OTLP/HTTP to a local sink, loaded by wrk in alternating
# rounds of the same run. BASELINE=path/to/stockd adds a third server (e.g. a build from before
# tracing existed) to show what "off" costs against it; SAMPLE_RATIO=0.1 samples a tenth of the
# traces instead of every one. Loopback only; bounded by DURATION.
#
#   bench/tracing.sh
#   DURATION=5s ROUNDS=3 BASELINE=/tmp/stockd-before bench/tracing.sh
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
OFF_PORT=${OFF_PORT:-18088}
ON_PORT=${ON_PORT:-18087}
BASE_PORT=${BASE_PORT:-18086}
SINK_PORT=${SINK_PORT:-18085}
PATH_UNDER_TEST=/MSFT/7

cd "$(dirname "$0")/.."
. bench/lib.sh
require_wrk

echo "building the release binary…" >&2
cargo build --release --quiet -p stockd

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_otlp_sink "$SINK_PORT" "$work/sink.count"
pids+=("$sink_pid")


start() { # name port binary [env...]
  local name=$1 port=$2 binary=$3; shift 3
  mkdir -p "$work/$name"
  # One load generator is one client address: the per-client read limit is raised (still
  # checked on every request) so it measures answers, not 429s; see bench/run.sh.
  env STOCKD_DATA_DIR="$work/$name" STOCKD_LOG_FORMAT=json APIKEY= STOCKD_PROVIDER=sample \
    STOCKD_LIMITS__READ_RATE_PER_SECOND=1000000 STOCKD_LIMITS__READ_BURST=1000000 "$@" \
    "$binary" serve --bind 127.0.0.1 --port "$port" >"$work/$name.log" 2>&1 &
  pids+=($!)
  server_pid[$name]=$!
  wait_for "http://127.0.0.1:$port/ready"
  curl -fsS -o /dev/null "http://127.0.0.1:$port$PATH_UNDER_TEST"   # fill the cache
}

# Loads server `name` at `url` → "req_per_sec p50_ms p99_ms cpu_us_per_request".
measure() { # name url
  local rps p50 p99 _errors cpu
  read -r rps p50 p99 _errors cpu <<<"$(load_with_cpu "${server_pid[$1]}" "$2")"
  echo "$rps $p50 $p99 $cpu"
}

declare -A server_pid
servers=("off:$OFF_PORT" "on:$ON_PORT")
start off "$OFF_PORT" ./target/release/stockd
start on "$ON_PORT" ./target/release/stockd \
  OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_SERVICE_NAME=stockd-bench \
  OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG="${SAMPLE_RATIO:-1.0}"
grep -q "exporting traces over OTLP" "$work/on.log" || { echo "bench: export did not start" >&2; cat "$work/on.log" >&2; exit 1; }
if [ -n "${BASELINE:-}" ]; then
  start baseline "$BASE_PORT" "$BASELINE"
  servers+=("baseline:$BASE_PORT")
fi

declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  for server in "${servers[@]}"; do
    name=${server%%:*}; port=${server##*:}
    echo "round $round/$ROUNDS: $name…" >&2
    runs[$name]+="$(measure "$name" "http://127.0.0.1:$port$PATH_UNDER_TEST");"
  done
done

echo
echo "trace export cost — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $ROUNDS rounds"
python3 - "${runs[off]}" "${runs[on]}" "${runs[baseline]:-}" "$(cat "$work/sink.count" 2>/dev/null || echo '0 0')" "${SAMPLE_RATIO:-1.0}" <<'PY'
import statistics, sys
def rows(text):
    return [tuple(map(float, r.split())) for r in text.split(";") if r.strip()]
def median(text):
    rs = rows(text)
    return tuple(statistics.median(r[i] for r in rs) for i in range(4)) if rs else None
off, on, base = median(sys.argv[1]), median(sys.argv[2]), median(sys.argv[3])
exports, exported_bytes = map(int, sys.argv[4].split())
print(f"{'server':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>11}")
for name, r in [("stockd, no collector (default)", off), ("stockd, exporting (sampled)", on), ("baseline binary", base)]:
    if r: print(f"{name:34} {r[0]:9.0f} {r[1]:8.3f} {r[2]:8.3f} {r[3]:11.2f}")
print(f"exporting (sample ratio {sys.argv[5]}) / not exporting: {on[0] / off[0] * 100:.1f} % of the throughput, {on[3] / off[3]:.2f}x the CPU per request")
if base: print(f"not exporting / baseline: {off[0] / base[0] * 100:.1f} % of the throughput, {off[3] / base[3]:.2f}x the CPU per request")
print(f"sink received {exports} exports, {exported_bytes / 1e6:.1f} MB (the SDK drops spans when its 2,048-span queue is full)")
print("all rounds (req/s p50 p99 cpu_us):", {k: v for k, v in [("off", sys.argv[1]), ("on", sys.argv[2]), ("baseline", sys.argv[3])] if v})
PY
