#!/usr/bin/env bash
# CPU time per cached `GET /MSFT/7`, paired round by round against the bare-axum ceiling: each
# round starts the ceiling, stockd (and BASELINE, another stockd build, when given) one after
# the other, loads each with `wrk -t2 -c64` for DURATION after a one-second warm-up, and reads
# the server's CPU time over the load with `perf stat -e task-clock -p PID`. Ratios are taken
# within a round, then their median over ROUNDS: on a shared 2-core machine single rounds move
# by 15-25 %, and two servers measured seconds apart move together. Loopback only; every round
# is bounded by DURATION.
#
#   bench/cpu.sh                                   # stockd as built beside the ceiling
#   BASELINE=/tmp/stockd-before bench/cpu.sh       # and another build beside both
#   PINNED=1 bench/cpu.sh                          # servers on core 0, wrk on core 1
#   ROUNDS=12 DURATION=3s SKIP_BUILD=1 bench/cpu.sh
set -euo pipefail

ROUNDS=${ROUNDS:-8}
DURATION=${DURATION:-3s}
PORT=${PORT:-18097}
PATH_UNDER_TEST=/MSFT/7

cd "$(dirname "$0")/.."
. bench/lib.sh
require_wrk
command -v perf >/dev/null || { echo "bench: perf is required (apt-get install linux-perf)" >&2; exit 1; }
if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "building the release binaries…" >&2
  cargo build --release --quiet -p stockd -p ceiling
fi
bin=${CARGO_TARGET_DIR:-target}/release
STOCKD_BIN=${STOCKD_BIN:-$bin/stockd}
servers=("$bin/ceiling" "$STOCKD_BIN")
[ -z "${BASELINE:-}" ] || servers+=("$BASELINE")
server_cpus=() load_cpus=()
if [ "${PINNED:-}" = 1 ]; then server_cpus=(taskset -c 0); load_cpus=(taskset -c 1); fi

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Prints "req_per_sec cpu_us_per_request" for one server under one load.
measure() { # binary
  local binary=$1 args data perf_pid
  data=$(mktemp -d -p "$work")
  # One wrk is one client address: the per-client read limit is raised (still checked on every
  # request), as in bench/run.sh. The ceiling takes its address as its one argument.
  args=(serve --bind 127.0.0.1 --port "$PORT")
  [ "$(basename "$binary")" = ceiling ] && args=("127.0.0.1:$PORT")
  env STOCKD_DATA_DIR="$data" APIKEY= STOCKD_PROVIDER=sample \
    STOCKD_LIMITS__READ_RATE_PER_SECOND=1000000 STOCKD_LIMITS__READ_BURST=1000000 \
    "${server_cpus[@]}" "$binary" "${args[@]}" >"$data/log" 2>&1 &
  pid=$!
  wait_for "http://127.0.0.1:$PORT$PATH_UNDER_TEST"
  "${load_cpus[@]}" wrk -t2 -c64 -d1s "http://127.0.0.1:$PORT$PATH_UNDER_TEST" >/dev/null
  perf stat -e task-clock -x, -o "$data/perf" -p "$pid" &
  perf_pid=$!
  "${load_cpus[@]}" wrk -t2 -c64 -d"$DURATION" "http://127.0.0.1:$PORT$PATH_UNDER_TEST" >"$data/wrk"
  kill -INT "$perf_pid"
  wait "$perf_pid" 2>/dev/null || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  python3 - "$data/wrk" "$data/perf" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
if errors:
    sys.exit(f"bench: {errors.group(1)} answers were not 2xx")
requests = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
msec = next(float(line.split(",")[0]) for line in open(sys.argv[2]) if "task-clock" in line)
print(f"{rps:.0f} {msec * 1000 / max(requests, 1):.3f}")
PY
}

results="$work/results"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS…" >&2
  for server in "${servers[@]}"; do
    echo "$round $server $(measure "$server")" >>"$results"
  done
done

python3 - "$results" "${servers[@]}" <<'PY'
import collections, statistics, sys
results, servers = sys.argv[1], sys.argv[2:]
rounds = collections.defaultdict(dict)
for line in open(results):
    round_, server, rps, cpu = line.split()
    rounds[round_][server] = (float(rps), float(cpu))
ceiling = servers[0]
print(f"\nCPU per cached GET /MSFT/7 beside the ceiling: {len(rounds)} paired rounds, medians")
print(f"{'server':34} {'req/s':>8} {'cpu us':>7} {'req/s/ceiling':>14} {'cpu/ceiling':>12}")
for server in servers:
    paired = [r for r in rounds.values() if server in r and ceiling in r]
    rps = statistics.median(r[server][0] for r in paired)
    cpu = statistics.median(r[server][1] for r in paired)
    throughput = statistics.median(r[server][0] / r[ceiling][0] for r in paired)
    cost = statistics.median(r[server][1] / r[ceiling][1] for r in paired)
    name = "ceiling (bare axum)" if server == ceiling else server
    print(f"{name:34} {rps:8.0f} {cpu:7.2f} {throughput * 100:13.1f}% {cost:11.3f}x")
print("targets: >= 90 % of the ceiling's req/s, <= 1.1x its CPU per request")
PY
