#!/usr/bin/env bash
# `docker compose` for the lab on any machine, with the same arguments:
#
#   bash scripts/docker/compose.sh --profile sampling up -d --wait
#   bash scripts/docker/compose.sh --profile '*' down -v
#
# Uses your Docker engine and compose plugin when you have them (then it is plain
# `docker compose`). Otherwise (Linux, root) it starts the project's own engine
# (scripts/docker/engine.sh), builds the local stand-in images (scripts/docker/images.sh) and
# runs compose with them; Grafana's image cannot be built locally, so `up` leaves it out.
COMPONENT=compose
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

eval "$(bash "$here/engine.sh")"
[ "${OTEL_LAB_ENGINE:-}" = project ] && eval "$(bash "$here/images.sh")"
cd "$ROOT"

# Split at the subcommand: global options (--profile X, -p NAME, -f FILE) come before it.
global=() rest=() sub=
while [ $# -gt 0 ]; do
  if [ -z "$sub" ]; then
    case $1 in
      --profile | -p | --project-name | -f | --file | --env-file | --project-directory) global+=("$1" "$2"); shift 2; continue ;;
      -*) global+=("$1") ;;
      *) sub=$1 ;;
    esac
  else
    rest+=("$1")
  fi
  shift
done

if [ "$sub" = up ] && [ "${OTEL_LAB_ENGINE:-}" = project ]; then
  services=$(docker compose "${global[@]}" config --services)
  named=0
  for a in "${rest[@]}"; do grep -qx -- "$a" <<<"$services" && named=1; done
  if [ "$named" = 0 ] && grep -qx grafana <<<"$services"; then
    say "local images: Grafana (${GRAFANA_IMAGE}) cannot be built here, leaving it out"
    mapfile -t others < <(grep -vx grafana <<<"$services")
    rest+=("${others[@]}")
  fi
fi
exec docker compose "${global[@]}" ${sub:+"$sub"} "${rest[@]}"
