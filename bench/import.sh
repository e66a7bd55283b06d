#!/usr/bin/env bash
# stockd's bulk-load benchmark: `stockd import` of SYMBOLS synthetic symbols × 10 years of NYSE
# trading days (500 × 2,514 ≈ 1.26 M rows by default, generated deterministically by
# bench/gen-bars) into a fresh SQLite data dir and a fresh PostgreSQL database, then the same
# file again (idempotent: 0 changed). Then `stockd serve` over the loaded SQLite store and
# `GET /v1/stocks/{symbol}/daily?from=2016-01-01` (10 years, ~2,514 bars per answer):
#
#   - first load: one curl per symbol right after startup (each a store read: the daily cache
#     is empty; checked by `x-stockd-cache: miss` and `"source":"import"`), p50/p99/max;
#   - steady state: wrk on one symbol, then wrk rotating over every symbol (a Lua script); both
#     are cache hits, the first pass having loaded every series.
#
# The server runs with the sample provider and a cache TTL of years, so every imported series is
# fresh (its fetch time is the import's) and nothing is asked of any provider. Loopback only;
# every step is bounded (imports by IMPORT_TIMEOUT, wrk by DURATION, curl by --max-time).
#
#   bench/import.sh
#   SYMBOLS=50 DURATION=5s ROUNDS=1 bench/import.sh
#   POSTGRES_ADMIN_URL=  bench/import.sh     # skip PostgreSQL
#   STOCKD_BIN=/tmp/old/target/release/stockd bench/import.sh   # measure another build
#   SKIP_BUILD=1 bench/import.sh        # use the binaries already in target/release
#                                       # (or $CARGO_TARGET_DIR/release)
set -euo pipefail

SYMBOLS=${SYMBOLS:-500}
FROM=${FROM:-2016-01-01}
TO=${TO:-2025-12-31}
SEED=${SEED:-42}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
FIRST_LOAD=${FIRST_LOAD:-$SYMBOLS}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-300}
ROUNDS=${ROUNDS:-3}
STOCKD_PORT=${STOCKD_PORT:-18097}
POSTGRES_ADMIN_URL=${POSTGRES_ADMIN_URL-postgres://postgres@127.0.0.1:5432/test}
STOCKD_BIN=${STOCKD_BIN:-${CARGO_TARGET_DIR:-target}/release/stockd}

cd "$(dirname "$0")/.."

. bench/lib.sh
require_wrk

if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "building release binaries…" >&2
  cargo build --release --quiet -p stockd -p gen-bars
fi

work=$(mktemp -d)
pids=()
pg_database=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pg_database" ]; then
    psql -q "$POSTGRES_ADMIN_URL" -c "drop database if exists \"$pg_database\"" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

csv=$work/bars.csv
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(now)
"${CARGO_TARGET_DIR:-target}/release/gen-bars" --symbols "$SYMBOLS" --from "$FROM" --to "$TO" --seed "$SEED" --out "$csv"
gen_s=$(calc "f'{$(now) - $start:.2f}'")
rows=$(($(wc -l <"$csv") - 1))
echo "generated $rows rows ($(du -h "$csv" | cut -f1)) in $gen_s s" >&2

# The stockd environment of every run: offline, fresh for years, quiet logs.
stockd_env=(env APIKEY= STOCKD_PROVIDER=sample STOCKD_CACHE_TTL=3650days STOCKD_LOG=warn
  STOCKD_LOG_FORMAT=json)

# Imports the CSV with the given extra environment; prints "seconds rows changed".
import() { # env assignments…
  local out start end
  start=$(now)
  out=$(timeout "$IMPORT_TIMEOUT" "${stockd_env[@]}" "$@" "$STOCKD_BIN" import "$csv")
  end=$(now)
  local summary
  summary=$(grep '^loaded ' <<<"$out")
  # "loaded 1257000 rows (1257000 new or changed) from …"
  read -r loaded changed < <(sed -E 's/^loaded ([0-9]+) rows \(([0-9]+) new or changed\).*/\1 \2/' <<<"$summary")
  echo "$(calc "f'{$end - $start:.2f}'") $loaded $changed"
}

results=()
report() { # backend run seconds rows changed
  results+=("$(printf '%-10s %-10s %9s %8s %9s %10s' "$1" "$2" "$4" "$3" \
    "$(calc "f'{$4 / $3:,.0f}'")" "$5")")
}

# Each round imports into a fresh database, then re-imports the same file; the machine is noisy,
# so every round is printed and the summary takes the best and the median.
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: importing into SQLite…" >&2
  sqlite_dir=$work/sqlite
  rm -rf "$sqlite_dir"
  read -r s n c <<<"$(import STOCKD_DATA_DIR="$sqlite_dir")"
  report sqlite first "$s" "$n" "$c"
  read -r s n c <<<"$(import STOCKD_DATA_DIR="$sqlite_dir")"
  report sqlite re-import "$s" "$n" "$c"
done
sqlite_size=$(du -sh "$sqlite_dir" | cut -f1)

if [ -n "$POSTGRES_ADMIN_URL" ] && command -v psql >/dev/null &&
  psql -q "$POSTGRES_ADMIN_URL" -c 'select 1' >/dev/null 2>&1; then
  for round in $(seq 1 "$ROUNDS"); do
    pg_database=stockd_bench_$$_${round}_$(date +%s)
    psql -q "$POSTGRES_ADMIN_URL" -c "create database \"$pg_database\"" >/dev/null
    pg_url="${POSTGRES_ADMIN_URL%/*}/$pg_database"
    echo "round $round/$ROUNDS: importing into PostgreSQL ($pg_database)…" >&2
    read -r s n c <<<"$(import STOCKD_DATABASE_URL="$pg_url" STOCKD_DATA_DIR="$work/unused")"
    report postgres first "$s" "$n" "$c"
    read -r s n c <<<"$(import STOCKD_DATABASE_URL="$pg_url" STOCKD_DATA_DIR="$work/unused")"
    report postgres re-import "$s" "$n" "$c"
    psql -q "$POSTGRES_ADMIN_URL" -c "drop database \"$pg_database\"" >/dev/null
    pg_database=
  done
else
  echo "bench: PostgreSQL skipped (no POSTGRES_ADMIN_URL, psql, or server)" >&2
fi

echo "serving the SQLite store…" >&2
# wrk is one client address: the per-client read limit is raised (still checked on every
# request), as in bench/run.sh, so the steady rows measure answers, not 429s.
"${stockd_env[@]}" STOCKD_DATA_DIR="$sqlite_dir" \
  STOCKD_LIMITS__READ_RATE_PER_SECOND=1000000 STOCKD_LIMITS__READ_BURST=1000000 \
  "$STOCKD_BIN" serve --bind 127.0.0.1 --port "$STOCKD_PORT" >"$work/serve.log" 2>&1 &
pids+=($!)
base=http://127.0.0.1:$STOCKD_PORT
wait_for "$base/ready"

mapfile -t symbols < <(cut -d, -f1 "$csv" | tail -n +2 | uniq)
query="from=$FROM"

# First load: the cache is empty, so each request reads its series from the store.
: >"$work/first.txt"
for symbol in "${symbols[@]:0:$FIRST_LOAD}"; do
  curl -fsS --max-time 10 -o /dev/null -D "$work/headers" -w '%{time_total}\n' \
    "$base/v1/stocks/$symbol/daily?$query" >>"$work/first.txt"
  cache=$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1)=="x-stockd-cache" {print $2}')
  [ "$cache" = miss ] || { echo "bench: $symbol: expected a miss (store read), got '$cache'" >&2; exit 1; }
done
curl -fsS --max-time 10 -o "$work/body.json" "$base/v1/stocks/${symbols[0]}/daily?$query"
body_bytes=$(wc -c <"$work/body.json")
read -r bars source < <(python3 -c 'import json,sys; b = json.load(open(sys.argv[1])); print(len(b["bars"]), b["source"])' "$work/body.json")
[ "$source" = import ] || { echo "bench: expected the imported series, got source '$source'" >&2; exit 1; }
# The same requests again, one at a time: now cache hits, the same measure as the first load.
: >"$work/again.txt"
for symbol in "${symbols[@]:0:$FIRST_LOAD}"; do
  curl -fsS --max-time 10 -o /dev/null -D "$work/headers" -w '%{time_total}\n' \
    "$base/v1/stocks/$symbol/daily?$query" >>"$work/again.txt"
  cache=$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1)=="x-stockd-cache" {print $2}')
  [ "$cache" = hit ] || { echo "bench: $symbol: expected a cache hit, got '$cache'" >&2; exit 1; }
done
percentiles() { # file of seconds → "p50_ms p99_ms max_ms count"
  python3 - "$1" <<'PY'
import sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
pct = lambda p: t[min(len(t) - 1, int(p / 100 * len(t)))]
print(f"{pct(50):.2f} {pct(99):.2f} {t[-1]:.2f} {len(t)}")
PY
}
read -r f_p50 f_p99 f_max f_n <<<"$(percentiles "$work/first.txt")"
read -r a_p50 a_p99 a_max _ <<<"$(percentiles "$work/again.txt")"

echo "wrk: one symbol…" >&2
one=$(load "$base/v1/stocks/${symbols[0]}/daily?$query")
{
  echo 'local paths = {'
  for symbol in "${symbols[@]}"; do echo "  \"/v1/stocks/$symbol/daily?$query\","; done
  echo '}'
  echo 'local i = math.random(#paths)'
  echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
} >"$work/rotate.lua"
echo "wrk: rotating over ${#symbols[@]} symbols…" >&2
rotating=$(load -s "$work/rotate.lua" "$base/v1/stocks/${symbols[0]}/daily?$query")
read -r o_rps o_p50 o_p99 o_err <<<"$one"
read -r r_rps r_p50 r_p99 r_err <<<"$rotating"

echo
echo "stockd import benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
echo "input: $rows rows, $SYMBOLS symbols, $FROM to $TO, seed $SEED (generated in $gen_s s); SQLite dir after import: $sqlite_size"
echo "load average at the start: $load_before"
printf '%-10s %-10s %9s %8s %9s %10s\n' backend run rows seconds "rows/s" changed
printf '%s\n' "${results[@]}"
echo "summary (seconds, best / median of $ROUNDS):"
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics
runs = {}
for line in sys.stdin:
    backend, run, rows, seconds = line.split()[:4]
    runs.setdefault((backend, run), []).append((float(seconds), int(rows)))
for (backend, run), times in runs.items():
    best = min(t for t, _ in times)
    median = statistics.median(t for t, _ in times)
    rows = times[0][1]
    print(f"  {backend:<10} {run:<10} best {best:.2f} s ({rows / best:,.0f} rows/s), median {median:.2f} s")
'
echo
echo "GET /v1/stocks/{symbol}/daily?$query ($bars bars, $body_bytes bytes), SQLite store"
printf '%-44s %9s %9s %9s %7s\n' "" "req/s" "p50 ms" "p99 ms" "errors"
printf '%-44s %9s %9s %9s %7s\n' "first load (store read), $f_n symbols, curl" "-" "$f_p50" "$f_p99" "0"
printf '%-44s %9s %9s %9s %7s\n' "again (cache hit), $f_n symbols, curl" "-" "$a_p50" "$a_p99" "0"
printf '%-44s %9s %9s %9s %7s\n' "steady, one symbol (wrk -c$CONNECTIONS -d$DURATION)" "$o_rps" "$o_p50" "$o_p99" "$o_err"
printf '%-44s %9s %9s %9s %7s\n' "steady, rotating ${#symbols[@]} symbols" "$r_rps" "$r_p50" "$r_p99" "$r_err"
echo "max: first load $f_max ms, again $a_max ms"
