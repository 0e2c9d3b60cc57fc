#!/usr/bin/env bash
# The README's two commands as a new user meets them: a clean clone of this checkout's HEAD,
# every cache empty (the lab's, Go's module and build caches, npm's), and, when run as root with
# apt, the Debian packages the lab installs removed first. Reports each phase's wall time and,
# for the component builds, where the time went.
#
#   bash scripts/fresh-machine.sh [--keep-packages] [--only lab|test] [--workdir DIR]
#
# Phases: remove packages -> clone -> `npm ci` -> `npm run lab` until it prints "ready", then
# Ctrl-C (as a person would) -> `npm test`. --only test skips the lab (the first `npm test` on
# its own); --only lab stops after it. Everything lands under the work dir (default: a new
# directory under /tmp), which is kept for its logs; the machine's own caches are not touched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
keep_packages=0 only='' work=''
while [ $# -gt 0 ]; do
  case $1 in
    --keep-packages) keep_packages=1 ;;
    --only) only=${2:?--only needs lab or test}; shift ;;
    --workdir) work=${2:?--workdir needs a directory}; shift ;;
    *) echo "usage: $0 [--keep-packages] [--only lab|test] [--workdir DIR]" >&2; exit 2 ;;
  esac
  shift
done
case $only in '' | lab | test) ;; *) echo "--only: lab or test, not '$only'" >&2; exit 2 ;; esac
work=${work:-$(mktemp -d /tmp/otel-lab-fresh-XXXXXX)}
mkdir -p "$work"
report=$work/phases.txt
: >"$report"

say() { printf '[fresh] %s\n' "$*" >&2; }
record() { printf '%-34s %s\n' "$1" "$2" | tee -a "$report" >&2; }
minutes() { printf '%d s (%d min %02d s)' "$1" $(($1 / 60)) $(($1 % 60)); }

# Empty caches, all inside the work dir.
export OTEL_LAB_CACHE=$work/cache/otel-lab
export GOMODCACHE=$work/cache/go-mod GOCACHE=$work/cache/go-build
export npm_config_cache=$work/cache/npm
mkdir -p "$OTEL_LAB_CACHE" "$GOMODCACHE" "$GOCACHE" "$npm_config_cache"
say "work dir $work (caches under $work/cache; logs: $work/*.log; phases: $report)"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. The Debian packages the lab installs, removed (they come back through scripts/build/packages.sh).
if [ $keep_packages = 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "not root or no apt-get: the lab's Debian packages stay as they are (--keep-packages to silence)"
  elif pgrep -x dockerd >/dev/null; then
    echo "a dockerd is running (pid $(pgrep -x dockerd | tr '\n' ' ')): stop it (bash scripts/docker/engine.sh stop) or pass --keep-packages" >&2
    exit 1
  else
    mapfile -t pkgs < <(bash "$ROOT/scripts/build/packages.sh" --list)
    installed=()
    for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && installed+=("$p"); done
    if [ ${#installed[@]} -gt 0 ]; then
      t0=$SECONDS
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 remove -y "${installed[@]}" >"$work/apt-remove.log" 2>&1 ||
        { tail -n 20 "$work/apt-remove.log" >&2; exit 1; }
      record "removed ${installed[*]}" "$(minutes $((SECONDS - t0)))"
    else
      say "none of the lab's Debian packages (${pkgs[*]}) is installed"
    fi
  fi
fi

# 2. A clean clone: only what is committed.
git clone -q "$ROOT" "$work/otel-lab"
cd "$work/otel-lab"
say "clone of $(git log -1 --format='%h %s' | cut -c1-72)"

# run_phase NAME LOG CMD...: runs a phase with its output in LOG, records its wall time.
run_phase() {
  local name=$1 log=$2 t0=$SECONDS; shift 2
  say "$name (log: $log)"
  if ! "$@" >"$log" 2>&1; then
    record "$name" "FAILED after $(minutes $((SECONDS - t0)))"
    tail -n 40 "$log" >&2
    exit 1
  fi
  record "$name" "$(minutes $((SECONDS - t0)))"
}
# The build summary all.sh prints: "[all] components ready in N s: collector 600 s wall, 900 CPU-s; ..."
# (colour codes stripped; the log holds them, so grep reads it as text with -a).
builds_of() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -a '^\[all\] components ready in [1-9]' | sed 's/^\[all\] /    /' | tee -a "$report" >&2 || true; }

run_phase 'npm ci' "$work/npm-ci.log" npm ci

if [ "$only" != test ]; then
  # `npm run lab` runs until Ctrl-C: wait for its ready line, then interrupt it as a person would.
  # Its ports are moved to free ones, so a lab already running on this machine is no obstacle.
  for name in OTLP_GRPC OTLP_HTTP JAEGER PROMETHEUS KAFKA GATEWAY ORDERS PAYMENTS FULFILLMENT; do
    export "LAB_${name}_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  done
  log=$work/npm-run-lab.log t0=$SECONDS
  say "npm run lab, until it is ready (log: $log)"
  setsid npm run lab >"$log" 2>&1 &
  lab=$!
  until grep -q '^\[lab\] ready in' "$log"; do
    if ! kill -0 $lab 2>/dev/null; then
      record 'npm run lab (first start)' "FAILED after $(minutes $((SECONDS - t0)))"
      tail -n 40 "$log" >&2
      exit 1
    fi
    [ $((SECONDS - t0)) -lt 5400 ] || { kill -INT -- -$lab; say "npm run lab not ready after 90 min"; exit 1; }
    sleep 5
  done
  record 'npm run lab (first start)' "$(minutes $((SECONDS - t0)))"
  builds_of "$log"
  t1=$SECONDS
  kill -INT -- -$lab
  wait $lab || true
  # Everything the lab started runs from the work dir's cache: none of it may outlive Ctrl-C.
  for _ in $(seq 30); do pgrep -f "$work/" >/dev/null || break; sleep 1; done
  if pgrep -f "$work/" >/dev/null; then say "still running 30 s after Ctrl-C:"; pgrep -af "$work/" >&2; exit 1; fi
  record 'npm run lab (Ctrl-C to all stopped)' "$(minutes $((SECONDS - t1)))"
fi

if [ "$only" != lab ]; then
  name='npm test'
  [ "$only" = test ] || name='npm test (after the lab)'
  run_phase "$name" "$work/npm-test.log" npm test
  builds_of "$work/npm-test.log"
  sed 's/\x1b\[[0-9;]*m//g' "$work/npm-test.log" | grep -aE '^\s+(Test Files|Tests|Duration) ' | sed 's/^ */    /' | tee -a "$report" >&2 || true
fi
say "all phases passed; the table is in $report"
