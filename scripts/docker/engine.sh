#!/usr/bin/env bash
# A Docker engine and the `docker compose` CLI plugin for the lab.
#
#   eval "$(bash scripts/docker/engine.sh)"   # start (or find) an engine; exports DOCKER_HOST, DOCKER_CONFIG
#                                             # and, for the project's own engine, OTEL_LAB_ENGINE=project
#   bash scripts/docker/engine.sh engine      # only the engine; `plugin`: only the compose CLI
#   bash scripts/docker/engine.sh stop        # stop the engine this script started (by its PID)
#   bash scripts/docker/engine.sh status
#
# Engine: the user's own when it answers (DOCKER_HOST or the default socket). Otherwise, on
# Linux as root, Debian's docker.io is installed and a dockerd owned by the project is started
# with everything under the cache (data root, exec root, socket, pidfile, log), so it never
# touches a system engine. --iptables=false: no firewall rules on the host (containers get no
# route out, published ports still reach localhost).
# Compose: the user's `docker compose` when it works; otherwise the Compose v2 CLI built from
# the Go module github.com/docker/compose/v5 into the cache, used through DOCKER_CONFIG.
# stdout carries only the `export` lines; progress goes to stderr.
COMPONENT=docker
. "$(dirname "$0")/lib.sh"

: "${COMPOSE_VERSION:?COMPOSE_VERSION missing from .env}"
base=$CACHE/docker
engine=$base/engine
sock=$engine/docker.sock
pidfile=$engine/docker.pid
own_host=unix://$sock
plugin_config=$base/config   # DOCKER_CONFIG holding only cli-plugins/docker-compose

answers() { DOCKER_HOST=$1 timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
own_pid() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"; }

start_own_engine() {
  [ "$(uname -s)" = Linux ] || die "no Docker engine answers: start Docker Desktop (or set DOCKER_HOST) and retry"
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and not root: install Docker (https://docs.docker.com/engine/install/) or run as root to let the lab start its own"
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    need apt-get "Docker (https://docs.docker.com/engine/install/): no apt-get to install Debian's docker.io"
    apt_install docker.io
  fi
  mkdir -p "$engine"
  # A stale pidfile or socket from a killed engine makes dockerd refuse to start.
  rm -f "$pidfile" "$sock"
  say "starting a project-owned dockerd (log: $engine/dockerd.log)"
  setsid dockerd --iptables=false --ip-masq=false \
    --data-root "$engine/data" --exec-root "$engine/exec" \
    -H "$own_host" --pidfile "$pidfile" >"$engine/dockerd.log" 2>&1 </dev/null 9>&- &
  local pid=$! start=$SECONDS
  until answers "$own_host"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$engine/dockerd.log" >&2; die "dockerd exited (log: $engine/dockerd.log)"; }
    [ $((SECONDS - start)) -lt 60 ] || { tail -n 20 "$engine/dockerd.log" >&2; die "dockerd did not answer within 60 s (log: $engine/dockerd.log)"; }
    sleep 0.2
  done
  say "dockerd $pid ready in $((SECONDS - start)) s at $own_host"
}

# The engine to use: prints its DOCKER_HOST (empty: the user's default socket).
find_or_start_engine() {
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "$own_host" ] && answers "$DOCKER_HOST"; then
    say "using your engine at DOCKER_HOST=$DOCKER_HOST"; echo "$DOCKER_HOST"; return
  fi
  if [ -z "${DOCKER_HOST:-}" ] && command -v docker >/dev/null && answers ""; then
    say "using your Docker engine (default socket)"; echo ""; return
  fi
  if own_pid >/dev/null && answers "$own_host"; then
    say "using the project's dockerd (pid $(own_pid))"; echo "$own_host"; return
  fi
  start_own_engine
  echo "$own_host"
}

build_compose() {
  need go "Go >= 1.25 to build the Compose CLI (or install the docker compose plugin yourself)"
  local module=github.com/docker/compose/v5 dir work
  mkdir -p "$base/build"
  work=$(mktemp -d "$base/build/.compose-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # `go install` refuses this module (exclude directives in its go.mod), so it is built as the
  # main module from a copy of its source out of the module cache.
  dir=$(cd "$work" && go mod download -json "$module@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || die "could not download $module@$COMPOSE_VERSION from the Go module proxy"
  cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
  build() {
    cd "$work/src" && go build -trimpath \
      -ldflags "-s -w -X $module/internal.Version=$COMPOSE_VERSION" -o "$work/out/docker-compose" ./cmd
  }
  run_logged "building the Compose CLI $COMPOSE_VERSION (cold on 2 cores, beside other builds: ~5 min)" "$base/compose-build.log" build
  mkdir -p "$plugin_config/cli-plugins"
  mv "$work/out/docker-compose" "$plugin_config/cli-plugins/docker-compose"
  rm -rf "$work"; trap - EXIT
}

# Prints the DOCKER_CONFIG to use (empty: the user's own).
find_or_build_compose() {
  if DOCKER_HOST=$1 docker compose version >/dev/null 2>&1; then echo ""; return; fi
  local plugin=$plugin_config/cli-plugins/docker-compose
  if ! [ -x "$plugin" ] || [ "$("$plugin" version --short 2>/dev/null)" != "${COMPOSE_VERSION#v}" ]; then
    build_compose
  fi
  echo "$plugin_config"
}

print_engine() {
  [ -n "$1" ] && echo "export DOCKER_HOST=$1"
  # The project's own engine means no registry was assumed: the lab then runs local images.
  [ "$1" = "$own_host" ] && echo "export OTEL_LAB_ENGINE=project"
  return 0
}
print_plugin() {
  [ -n "$2" ] && echo "export DOCKER_CONFIG=$2"
  say "docker compose $(DOCKER_HOST=$1 DOCKER_CONFIG=${2:-${DOCKER_CONFIG:-$HOME/.docker}} docker compose version --short)"
}

# One caller at a time (test files run in parallel): a second dockerd or compose build would race.
if [ "${1:-start}" != status ]; then
  mkdir -p "$base"
  exec 9>"$base/engine.lock"
  flock 9
fi

case ${1:-start} in
  start)
    need docker "Docker (https://docs.docker.com/engine/install/; Debian: apt-get install docker.io)"
    host=$(find_or_start_engine)
    print_engine "$host"
    print_plugin "$host" "$(find_or_build_compose "$host")"
    ;;
  # The two halves of start, for callers that build images meanwhile (the plugin build is minutes cold).
  engine)
    need docker "Docker (https://docs.docker.com/engine/install/; Debian: apt-get install docker.io)"
    print_engine "$(find_or_start_engine)"
    ;;
  plugin)
    print_plugin "${DOCKER_HOST:-}" "$(find_or_build_compose "${DOCKER_HOST:-}")"
    ;;
  stop)
    pid=$(own_pid) || { say "no project-owned dockerd is running"; exit 0; }
    say "stopping dockerd $pid (it stops its containers first)"
    kill "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd $pid still running after 30 s: killing it"; kill -9 "$pid"; }
    rm -f "$pidfile" "$sock"
    say "stopped"
    ;;
  status)
    if pid=$(own_pid); then say "project-owned dockerd $pid at $own_host"; else say "no project-owned dockerd running"; fi
    ;;
  *) die "usage: engine.sh [start|engine|plugin|stop|status]" ;;
esac
