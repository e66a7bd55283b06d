# Shared by the bench scripts (sourced, not run).

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
