#!/usr/bin/env bash
# `cargo deny check` (deny.toml: advisories, licences, bans, sources) with no network for the
# advisories: they are read from the RustSec snapshot in ../shared/data/ beside the repository.
# Used by .ci/run; runs the same on a laptop.
#
# - cargo-deny is pinned and installed once into ~/.cache/stockd-ci/cargo-deny-<version>
#   (a cold `cargo install --locked` took 8 min on 2 cores shared with a build).
# - The snapshot (a .tgz of the advisory-db repository) is unpacked once per snapshot into the
#   same cache as a git repository (cargo-deny opens nothing else), committed with the
#   snapshot's own date, and never fetched (`--offline`).
# - Without a snapshot, the advisories check alone is skipped with a note; the rest still runs.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=0.20.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/stockd-ci"
deny_dir="$cache/cargo-deny-$CARGO_DENY_VERSION"
if [ ! -x "$deny_dir/bin/cargo-deny" ]; then
  echo "installing cargo-deny $CARGO_DENY_VERSION into $deny_dir (once; takes minutes)"
  cargo install --locked --quiet --root "$deny_dir" cargo-deny --version "$CARGO_DENY_VERSION"
fi
export PATH="$deny_dir/bin:$PATH"

checks=(advisories licenses bans sources)
# Beside the repository in CI; STOCKD_SHARED_DATA points elsewhere (a checkout kept apart).
data=${STOCKD_SHARED_DATA:-../shared/data}
snapshot=$(ls "$data"/rustsec-advisory-db-*.tgz 2>/dev/null | sort | tail -1 || true)
if [ -n "$snapshot" ]; then
  name=$(basename "$snapshot" .tgz)
  # The folder cargo-deny derives from its default database URL (RustSec's advisory-db).
  dbs="$cache/$name"
  db="$dbs/advisory-db-3157b0e258782691"
  if [ ! -d "$db/.git" ]; then
    rm -rf "$dbs"
    mkdir -p "$db"
    tar -xzf "$snapshot" -C "$db"
    date=${name#rustsec-advisory-db-}
    (
      cd "$db"
      git init --quiet
      git add --all
      GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
        git -c user.name=stockd-ci -c user.email=ci@stockd.invalid commit --quiet \
        -m "RustSec advisory-db snapshot $date"
    )
  fi
  export STOCKD_ADVISORY_DBS="$dbs"
  echo "advisories: RustSec snapshot $(basename "$snapshot") (offline; newer advisories are not in it)"
else
  echo "NOTE: no RustSec snapshot in $data/ (rustsec-advisory-db-<date>.tgz):" \
    "skipping the advisories check; licences, bans and sources are still checked"
  checks=(licenses bans sources)
fi

# cargo-deny reads every platform's manifests; `--offline` (no advisory fetch) also keeps it
# from downloading them, so they are fetched first (a no-op once cached).
cargo fetch --locked --quiet
started=$SECONDS
deny=(cargo deny --log-level warn --offline --locked check)
# Warnings (duplicate versions) one line each; on a failure again with the inclusion graphs,
# which show what pulls the crate in.
if ! "${deny[@]}" --hide-inclusion-graph "${checks[@]}"; then
  "${deny[@]}" "${checks[@]}" || true
  echo "cargo deny check ${checks[*]} failed (see deny.toml)" >&2
  exit 1
fi
echo "cargo deny check ${checks[*]}: clean in $((SECONDS - started)) s"
