#!/usr/bin/env bash
# Start-up and memory of the default `stockd serve` (sample provider, SQLite, every role): how
# long from exec to `/health` and `/ready` answering, how long the first `GET /MSFT/7` takes
# (it decodes the bundled sample), and where the resident memory is: idle, idle once the probes
# (/ready, /health) have been answered, after that first request and after a 64-connection
# load — split into the binary's pages (code, read-only data,
# relocated data), the heap and other anonymous memory, stacks and the shared libraries, read
# from /proc/PID/smaps. Loopback only; bounded by ROUNDS and DURATION.
#
#   bench/memory.sh                        # the release build, 3 starts
#   BINARY=/tmp/stockd-old bench/memory.sh # another build (the same table, for an A/B)
#   ROUNDS=5 DURATION=5s bench/memory.sh
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
PORT=${PORT:-18097}

cd "$(dirname "$0")/.."
. bench/lib.sh
require_wrk
if [ -z "${BINARY:-}" ]; then
  echo "building the release binary…" >&2
  cargo build --release --quiet -p stockd
  BINARY=${CARGO_TARGET_DIR:-target}/release/stockd
fi

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The RSS of a process by what backs it, in KiB: "binary-code binary-rodata binary-data
# heap-and-anon stacks libraries total".
breakdown() { # pid binary
  python3 - "$1" "$(realpath "$2")" <<'PY'
import sys
pid, binary = sys.argv[1], sys.argv[2]
sums = dict.fromkeys(["code", "rodata", "data", "anon", "stacks", "libs"], 0)
kind = None
for line in open(f"/proc/{pid}/smaps"):
    head = line.split()
    if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
        perms, path = head[1], head[5] if len(head) > 5 else ""
        if path == binary:
            # The first read-only mapping holds .rodata (and the relocations, read at start);
            # the later read-only one is .data.rel.ro, written by those relocations.
            if "x" in perms:
                kind = "code"
            elif perms.startswith("r--") and head[2] == "00000000":
                kind = "rodata"
            else:
                kind = "data"
        elif path.startswith("[stack"):
            kind = "stacks"
        elif path.startswith("/"):
            kind = "libs"
        else:
            kind = "anon"
    elif head[0] == "Rss:":
        sums[kind] += int(head[1])
# Thread stacks are anonymous mappings (counted as anon); "stacks" is the main thread's.
print(" ".join(str(sums[k]) for k in ["code", "rodata", "data", "anon", "stacks", "libs"]), sum(sums.values()))
PY
}

# Starts stockd and prints "ms_to_health ms_to_ready ms_first_msft7".
start_and_time() {
  rm -rf "$work/data"; mkdir -p "$work/data"
  STOCKD_DATA_DIR="$work/data" STOCKD_LOG_FORMAT=json APIKEY= STOCKD_PROVIDER=sample \
    STOCKD_LIMITS__READ_RATE_PER_SECOND=1000000 STOCKD_LIMITS__READ_BURST=1000000 \
    python3 - "$BINARY" "$PORT" "$work/pid" <<'PY'
import http.client, os, subprocess, sys, time
binary, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
started = time.perf_counter()
proc = subprocess.Popen([binary, "serve", "--bind", "127.0.0.1", "--port", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
open(pidfile, "w").write(str(proc.pid))
def until_ok(path):
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return (time.perf_counter() - started) * 1e3
        except OSError:
            pass
        if time.perf_counter() - started > 30:
            sys.exit(f"{path} did not answer within 30 s")
        time.sleep(0.002)
health = until_ok("/health")
ready = until_ok("/ready")
time.sleep(2)  # let start-up work (migrations, first polls) settle before "idle"
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
t = time.perf_counter()
conn.request("GET", "/MSFT/7")
response = conn.getresponse(); response.read()
assert response.status == 200, response.status
first = (time.perf_counter() - t) * 1e3
print(f"{health:.1f} {ready:.1f} {first:.1f}")
PY
}

labels="code rodata data anon stacks libs total"
printf '%-8s %10s %10s %14s\n' "start" "/health ms" "/ready ms" "1st /MSFT/7 ms"
idle_rows=(); probed_rows=(); first_rows=(); loaded_rows=(); timings=()
for round in $(seq 1 "$ROUNDS"); do
  # Idle memory from a start that is sent nothing but the readiness probe; then a second
  # start, timed, whose first /MSFT/7 and load follow.
  rm -rf "$work/data"; mkdir -p "$work/data"
  STOCKD_DATA_DIR="$work/data" STOCKD_LOG_FORMAT=json APIKEY= STOCKD_PROVIDER=sample \
    "$BINARY" serve --bind 127.0.0.1 --port "$PORT" >/dev/null 2>&1 &
  pid=$!
  wait_for "http://127.0.0.1:$PORT/ready"
  sleep 2
  idle_rows+=("$(breakdown "$pid" "$BINARY")")
  # What Kubernetes' probes keep resident: the HTTP path of /ready and /health.
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ready"
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health"
  probed_rows+=("$(breakdown "$pid" "$BINARY")")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

  timing=$(start_and_time)
  pid=$(cat "$work/pid")
  timings+=("$timing")
  first_rows+=("$(breakdown "$pid" "$BINARY")")
  wrk -t2 -c64 -d"$DURATION" "http://127.0.0.1:$PORT/MSFT/7" >/dev/null
  loaded_rows+=("$(breakdown "$pid" "$BINARY")")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  read -r h r f <<<"$timing"
  printf '%-8s %10s %10s %14s\n' "$round" "$h" "$r" "$f"
done

median_rows() { # rows… → the per-column median, in MiB
  python3 -c '
import statistics, sys
rows = [list(map(int, r.split())) for r in sys.argv[1:]]
print(" ".join(f"{statistics.median(col) / 1024:.1f}" for col in zip(*rows)))' "$@"
}
echo
echo "stockd memory — $(date -u +%Y-%m-%dT%H:%MZ), $(basename "$BINARY") $(stat -c %s "$BINARY") bytes, median of $ROUNDS starts, MiB"
printf '%-30s' "when"; for l in $labels; do printf ' %7s' "$l"; done; echo
for when in idle probed first loaded; do
  case $when in
    idle) rows=("${idle_rows[@]}"); name="idle (after /ready)";;
    probed) rows=("${probed_rows[@]}"); name="idle, after /ready + /health";;
    first) rows=("${first_rows[@]}"); name="after the first /MSFT/7";;
    loaded) rows=("${loaded_rows[@]}"); name="after wrk -c64 -d$DURATION";;
  esac
  printf '%-30s' "$name"; for v in $(median_rows "${rows[@]}"); do printf ' %7s' "$v"; done; echo
done
read -r mh mr mf <<<"$(python3 -c '
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[1:]]
print(" ".join(f"{statistics.median(col):.1f}" for col in zip(*rows)))' "${timings[@]}")"
echo "start → /health ${mh} ms, start → /ready ${mr} ms, first GET /MSFT/7 after a start ${mf} ms (medians)"
