#!/usr/bin/env bash
# stockd's throughput benchmark: cached `GET /MSFT/7` on the sample provider against a bare axum
# hello-world (bench/ceiling) answering a body of the same size, both loaded by wrk in the same
# run with the same settings. Prints req/s, p50/p99 latency, each server's CPU time per request
# (user + system from /proc/PID/stat, so the kernel's loopback TCP counts for both), the ratios,
# and stockd's RSS idle and under load. Loopback only; every run is bounded by DURATION.
#
#   bench/run.sh                    # 64 connections, 10 s per round, 2 rounds per server
#   DURATION=5s ROUNDS=1 bench/run.sh
#   SKIP_BUILD=1 bench/run.sh       # the binaries already in target/release (or $CARGO_TARGET_DIR)
#   STOCKD_BIN=/tmp/stockd-old SKIP_BUILD=1 bench/run.sh   # another build against the ceiling
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
CEILING_PORT=${CEILING_PORT:-18099}
STOCKD_PORT=${STOCKD_PORT:-18098}
PATH_UNDER_TEST=/MSFT/7

cd "$(dirname "$0")/.."

. bench/lib.sh
require_wrk

if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "building release binaries…" >&2
  cargo build --release --quiet -p stockd -p ceiling
fi
bin=${CARGO_TARGET_DIR:-target}/release
STOCKD_BIN=${STOCKD_BIN:-$bin/stockd}

data_dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

"$bin/ceiling" "127.0.0.1:$CEILING_PORT" &
ceiling_pid=$!
pids+=("$ceiling_pid")
# wrk on loopback is ONE client address, and the default per-client read limit (50 reads/s)
# would answer it 429 after the first hundred requests. The limit is raised, not switched off:
# every request still goes through the per-client check (its cost is in the number), it just
# never refuses at this rate. Everything else is stockd's default configuration.
STOCKD_DATA_DIR="$data_dir" STOCKD_LOG_FORMAT=json APIKEY= STOCKD_PROVIDER=sample \
  STOCKD_LIMITS__READ_RATE_PER_SECOND=1000000 STOCKD_LIMITS__READ_BURST=1000000 \
  "$STOCKD_BIN" serve --bind 127.0.0.1 --port "$STOCKD_PORT" >/dev/null &
stockd_pid=$!
pids+=("$stockd_pid")
wait_for "http://127.0.0.1:$CEILING_PORT$PATH_UNDER_TEST"
wait_for "http://127.0.0.1:$STOCKD_PORT/ready"
curl -fsS -o /dev/null "http://127.0.0.1:$STOCKD_PORT$PATH_UNDER_TEST"   # fill the cache
cache=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$STOCKD_PORT$PATH_UNDER_TEST" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-stockd-cache" {print $2}')
[ "$cache" = hit ] || { echo "bench: expected a cache hit, got '$cache'" >&2; exit 1; }
idle_rss=$(rss_kib "$stockd_pid")

best() { sort -k1,1nr | head -1; }
median() { sort -k1,1n | awk '{ rows[NR] = $0 } END { print rows[int((NR + 1) / 2)] }'; }
ceiling_runs=(); stockd_runs=()
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: ceiling…" >&2
  ceiling_runs+=("$(load_with_cpu "$ceiling_pid" "http://127.0.0.1:$CEILING_PORT$PATH_UNDER_TEST")")
  echo "round $round/$ROUNDS: stockd…" >&2
  stockd_runs+=("$(load_with_cpu "$stockd_pid" "http://127.0.0.1:$STOCKD_PORT$PATH_UNDER_TEST")")
done
loaded_rss=$(hwm_kib "$stockd_pid")
read -r c_rps c_p50 c_p99 c_err _ <<<"$(printf '%s\n' "${ceiling_runs[@]}" | best)"
read -r s_rps s_p50 s_p99 s_err _ <<<"$(printf '%s\n' "${stockd_runs[@]}" | best)"

echo
echo "stockd benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, best of $ROUNDS rounds"
printf '%-28s %10s %9s %9s %7s\n' "server" "req/s" "p50 ms" "p99 ms" "errors"
printf '%-28s %10s %9s %9s %7s\n' "ceiling (bare axum)" "$c_rps" "$c_p50" "$c_p99" "$c_err"
printf '%-28s %10s %9s %9s %7s\n' "stockd GET $PATH_UNDER_TEST (hit)" "$s_rps" "$s_p50" "$s_p99" "$s_err"
read -r cm_rps _ <<<"$(printf '%s\n' "${ceiling_runs[@]}" | median)"
read -r sm_rps _ <<<"$(printf '%s\n' "${stockd_runs[@]}" | median)"
python3 -c "print(f'throughput ratio stockd/ceiling: best {$s_rps / $c_rps * 100:.1f} %, median {$sm_rps / $cm_rps * 100:.1f} % (target >= 90 %)')"
# CPU per request: the median of each server's rounds (it moves less than req/s between rounds).
median_cpu() { awk '{print $5}' | sort -n | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }'; }
c_cpu=$(printf '%s\n' "${ceiling_runs[@]}" | median_cpu)
s_cpu=$(printf '%s\n' "${stockd_runs[@]}" | median_cpu)
python3 -c "print(f'CPU per request (median of rounds): ceiling {$c_cpu} us, stockd {$s_cpu} us, ratio {$s_cpu / $c_cpu:.2f}x (target <= 1.1x)')"
echo "stockd RSS: idle $((idle_rss / 1024)) MiB, peak under load $((loaded_rss / 1024)) MiB"
echo "all rounds (req/s p50 p99 errors cpu-us/request): ceiling ${ceiling_runs[*]/%/;} stockd ${stockd_runs[*]/%/;}"
