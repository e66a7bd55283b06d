#!/usr/bin/env bash
# The dashboard in a real browser (crates/web/ui/tests/e2e.mjs): Debian's Chromium, driven by
# playwright-core from the dashboard's locked npm dependencies (playwright-core never downloads
# a browser), against the debug `stockd` over a throw-away SQLite store with the sample data and
# the `sim` news source (STOCKD_NEWS__SOURCES=sim, scored by the lexicon), plus a second server
# with news off. Type-checks the app first. Screenshots go to SCREENSHOT_DIR (default
# docs/screenshots).
#
#   scripts/dashboard-e2e.sh
#   STOCKD_BIN=target/debug/stockd SKIP_BUILD=1 scripts/dashboard-e2e.sh
#
# About 40 s on 2 idle cores, plus `npm ci` when the lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

ui=crates/web/ui
export STOCKD_BIN=$(realpath -m "${STOCKD_BIN:-${CARGO_TARGET_DIR:-target}/debug/stockd}")

if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  # Debian's browser; nothing here downloads one.
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v npm >/dev/null || { echo "npm is needed for the dashboard's browser test" >&2; exit 1; }

if [ "${SKIP_BUILD:-}" != 1 ]; then
  # build.rs builds and embeds the app (and runs `npm ci` when the lock file changed).
  cargo build --quiet -p stockd --bin stockd
fi
# The same stamp build.rs writes: install only when the lock file changed since.
lock_hash=$(sha256sum "$ui/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$ui/node_modules/.stockd-lock.sha256" 2>/dev/null)" != "$lock_hash" ]; then
  (cd "$ui" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline)
  printf %s "$lock_hash" >"$ui/node_modules/.stockd-lock.sha256"
fi

(cd "$ui" && node node_modules/typescript/bin/tsc --noEmit)
node "$ui/tests/e2e.mjs"
