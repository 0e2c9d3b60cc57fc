# Shared helpers for the build scripts: where the cache lives, tool checks, progress on long steps.
# Sourced, not run. Everything built or downloaded goes under $OTEL_LAB_CACHE, never into the repo.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${OTEL_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-lab}
mkdir -p "$CACHE"

# Versions live in one file (.env), read by docker compose too.
# shellcheck disable=SC1091
set -a; . "$ROOT/.env"; set +a

# Every Go build of the lab with the same flags: Go's build cache only shares a compiled package
# (the standard library's ~60 CPU-s first of all, then common modules) between builds made with
# the same flags and environment. ocb and the control plane already build static and with
# -trimpath; the others follow (the official images of Prometheus, Jaeger and Compose are static).
export CGO_ENABLED=0
case " ${GOFLAGS:-} " in *" -trimpath "*) ;; *) export GOFLAGS="-trimpath${GOFLAGS:+ $GOFLAGS}" ;; esac

say() { printf '[%s] %s\n' "${COMPONENT:-build}" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# need TOOL "what to install": one line saying what is missing, not a stack of errors later.
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install $2"; }

# run_logged LABEL LOGFILE CMD...: runs a long step with its output in LOGFILE and a
# heartbeat every 20 s, so a cold build never looks hung; on failure, shows the log's tail.
run_logged() {
  local label=$1 log=$2; shift 2
  local start=$SECONDS
  say "$label (log: $log)"
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && say "  … $label: $((SECONDS - start)) s"
  done
  if ! wait "$pid"; then
    tail -n 40 "$log" >&2
    die "$label failed after $((SECONDS - start)) s (full log: $log)"
  fi
  say "$label done in $((SECONDS - start)) s"
}

# publish TMPDIR FINALDIR: a build lands whole or not at all, so an interrupted build is
# never mistaken for a finished one.
publish() { rm -rf "$2"; mkdir -p "$(dirname "$2")"; chmod 755 "$1"; mv "$1" "$2"; }

# apt_install PACKAGE...: Debian packages; the package lists are refreshed first when they are
# missing or older than a day (a fresh machine has none). Test files start in parallel and may
# each need a package: one install at a time (a lock of the lab's), and apt itself waits for
# dpkg's lock instead of failing when something else holds it.
apt_install() {
  mkdir -p "$CACHE/logs"
  export DEBIAN_FRONTEND=noninteractive
  local wait=(-o DPkg::Lock::Timeout=600)
  exec 8>"$CACHE/apt.lock"
  flock -n 8 || { say "another apt install of the lab is running: waiting for it"; flock 8; }
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)" ] ||
      run_logged "apt-get update" "$CACHE/logs/apt-update.log" apt-get "${wait[@]}" update
    run_logged "installing ${missing[*]} from Debian (~1 min)" "$CACHE/logs/apt.log" \
      apt-get "${wait[@]}" install -y --no-install-recommends "${missing[@]}"
  fi
  flock -u 8
}
