#!/usr/bin/env bash
# Alert bursts, quote → webhook received (crates/alerting/benches/burst.rs): 1,000 active rules
# on one symbol, 50 of them firing on every quote, one quote a second, embedded (a SQLite file,
# the in-process bus), the dispatcher's production loop sending through the real webhook sender
# to a receiver on 127.0.0.1. Prints p50 / p99 / max of quote time → webhook received.
#
#   bench/alert-burst.sh                # 20 quotes (1,000 webhooks)
#   QUOTES=60 bench/alert-burst.sh
#   STOCKD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
#   STOCKD_TEST_NATS_URL=nats://127.0.0.1:4223 bench/alert-burst.sh
#                                       # and the same burst on PostgreSQL (a scratch
#                                       # database) + NATS JetStream
#   BASE=main bench/alert-burst.sh      # first the same bench on BASE's code (a temporary
#                                       # detached worktree), then this tree's: before/after
#                                       # in one run
set -euo pipefail

cd "$(dirname "$0")/.."
QUOTES=${QUOTES:-20}

# Each side builds in a target directory of its own: cargo names a workspace crate's artifacts
# without its path, so two checkouts in one target directory would reuse each other's builds.
target=${CARGO_TARGET_DIR:-$PWD/target}
run() {
  (cd "$1" && QUOTES=$QUOTES CARGO_TARGET_DIR="$2" cargo bench --quiet -p alerting --bench burst |
    grep -E "^(alert burst|stages)")
}

if [ -n "${BASE:-}" ]; then
  base_dir="$(mktemp -d)/base"
  git worktree add --quiet --detach "$base_dir" "$BASE"
  trap 'git worktree remove --force "$base_dir"' EXIT
  # The bench itself is the same on both sides; only the code it drives differs.
  cp crates/alerting/benches/burst.rs "$base_dir/crates/alerting/benches/burst.rs"
  cp -r crates/alerting/benches/support "$base_dir/crates/alerting/benches/"
  grep -q 'name = "burst"' "$base_dir/crates/alerting/Cargo.toml" ||
    printf '\n[[bench]]\nname = "burst"\nharness = false\n' >>"$base_dir/crates/alerting/Cargo.toml"
  echo "building and running on $BASE…" >&2
  before=$(run "$base_dir" "$target/bench-base")
  echo "before ($BASE $(git rev-parse --short "$BASE")): $before"
fi
echo "building and running on this tree…" >&2
after=$(run . "$target")
echo "after ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo +changes)): $after"
