# Shared by the bench scripts (sourced, not run): tools, readiness, wrk summaries and an OTLP
# sink.

# wrk from Debian's packages when missing (as root), else a clear error.
require_wrk() {
  command -v wrk >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing wrk (apt)…" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
  else
    echo "bench: wrk is required (apt-get install wrk)" >&2
    exit 1
  fi
}

# Waits (up to 10 s) until `url` answers 2xx.
wait_for() { # url
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2
  exit 1
}

# Reads wrk --latency output on stdin, prints "req_per_sec p50_ms p99_ms errors requests"
# (errors: non-2xx/3xx responses plus socket errors).
wrk_summary() {
  python3 -c '
import re, sys
out = sys.stdin.read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not m: return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
requests = int(re.search(r"(\d+) requests in", out).group(1))
errors = 0
m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
if m: errors += int(m.group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
if m: errors += sum(int(x) for x in m.groups())
print(f"{rps:.0f} {ms(50):.3f} {ms(99):.3f} {errors} {requests}")'
}

# Runs wrk with the script's THREADS, CONNECTIONS and DURATION; prints "req_per_sec p50_ms
# p99_ms errors".
load() { # wrk arguments…
  local rps p50 p99 errors _requests
  read -r rps p50 p99 errors _requests < <(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | wrk_summary)
  echo "$rps $p50 $p99 $errors"
}

# User + system CPU time a process has used so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Like `load`, and the CPU time `pid` spent per request meanwhile (user + system, so the
# kernel's loopback TCP counts): prints "req_per_sec p50_ms p99_ms errors cpu_us_per_request".
# CPU per request is the steadier figure on a shared 2-core machine.
load_with_cpu() { # pid wrk arguments…
  local pid=$1 before after rps p50 p99 errors requests
  shift
  before=$(cpu_ticks "$pid")
  read -r rps p50 p99 errors requests < <(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | wrk_summary)
  after=$(cpu_ticks "$pid")
  echo "$rps $p50 $p99 $errors $(python3 -c "print(f'{($after - $before) * 1e6 / $(getconf CLK_TCK) / max($requests, 1):.2f}')")"
}

# Starts, in the background, an OTLP/HTTP collector stand-in on 127.0.0.1:`port` that answers
# 200 to every export and keeps "exports bytes" in `count_file`; its pid is in $sink_pid.
start_otlp_sink() { # port count_file
  python3 - "$1" "$2" <<'PY' &
import http.server, sys, threading
port, count_file = int(sys.argv[1]), sys.argv[2]
lock, totals = threading.Lock(), [0, 0]
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            totals[0] += 1; totals[1] += len(body)
            open(count_file, "w").write(f"{totals[0]} {totals[1]}\n")
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
PY
  sink_pid=$!
}
