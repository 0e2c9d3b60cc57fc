#!/usr/bin/env bash
# Builds (or finds in the cache) the lab's native components, in parallel: the Go builds each
# take minutes cold and seconds warm. Progress lines are prefixed by component.
#   bash scripts/build/all.sh [component ...]   (default: what the native lab runs)
# Components: collector prometheus jaeger kafka (scripts/build/), k8s (Lab 3's control plane),
# packages (the Debian packages the suite needs: scripts/build/packages.sh), compose (the Compose
# CLI, when the machine has no `docker compose`: scripts/docker/engine.sh plugin; after packages),
# telemetrygen (the load generator of npm run bench:pipeline).
# profiler (Lab 5: the eBPF profiler and its profiles collector, scripts/build/profiler.sh),
# images (the local Docker images, scripts/docker/prebuild.sh: after the components they hold).
COMPONENT=all
. "$(dirname "$0")/lib.sh"
components=(${@:-collector prometheus jaeger kafka})
script_of() {
  case $1 in
    collector | prometheus | jaeger | kafka | packages | telemetrygen | profiler) echo "$ROOT/scripts/build/$1.sh" ;;
    k8s) echo "$ROOT/scripts/k8s/control-plane.sh" ;;
    compose) echo "$ROOT/scripts/docker/engine.sh" ;;
    images) echo "$ROOT/scripts/docker/prebuild.sh" ;;
    *) die "unknown component '$1' (collector prometheus jaeger kafka k8s packages compose telemetrygen profiler images)" ;;
  esac
}
for c in "${components[@]}"; do script_of "$c" >/dev/null; done
start=$SECONDS
times_dir=$(mktemp -d)
trap 'rm -rf "$times_dir"' EXIT
# Each component in a subshell that records its wall time and the CPU seconds of everything it
# ran (bash's `times`, children's user + sys), for the summary: where a cold build's time goes.
# With LAB_BUILD_TIMINGS=<file>, each component also appends "<name> <start ms> <end ms> <exit code>"
# there: Lab 4's pipeline runner turns those lines into task spans (scripts/cicd/pipeline.ts).
build_one() {
  local c=$1 t0=$SECONDS rc=0 t0ms
  local args=()
  [ "$c" = compose ] && args=(plugin)
  t0ms=$(date +%s%3N)
  bash "$(script_of "$c")" "${args[@]}" >/dev/null || rc=$?
  [ -z "${LAB_BUILD_TIMINGS:-}" ] || echo "$c $t0ms $(date +%s%3N) $rc" >>"$LAB_BUILD_TIMINGS"
  [ $rc = 0 ] || : >"$times_dir/.failed-$c"
  # `times` writes to a file, not a pipe: a pipe would run it in a fork, which has no children.
  times >"$times_dir/.$c"
  awk -v c="$c" -v w=$((SECONDS - t0)) 'NR == 2 {
    split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%s %d %d\n", c, w, u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$times_dir/.$c" >"$times_dir/$c"
  return $rc
}
# What a component is made from, when the same run builds that too: it starts once those are done.
# The Compose CLI is looked for with Docker's own CLI, which the packages step may install; the
# images need the engine (packages) and the binaries they hold, not the control plane or Compose,
# so they build while k8s still compiles.
after_of() {
  case $1 in
    compose) echo packages ;;
    images) echo packages collector prometheus jaeger kafka profiler ;;
  esac
}
# run_after C DEP...: waits for each DEP's summary line, then builds C unless a DEP failed.
run_after() {
  local c=$1 d; shift
  for d in "$@"; do
    while [ ! -f "$times_dir/$d" ]; do sleep 1; done
    [ ! -f "$times_dir/.failed-$d" ] || { say "$c: not built, $d failed"; return 1; }
  done
  build_one "$c"
}
pids=()
started=()
for c in "${components[@]}"; do
  deps=()
  for d in $(after_of "$c"); do
    for x in "${components[@]}"; do [ "$x" = "$d" ] && deps+=("$d"); done
  done
  if [ ${#deps[@]} -gt 0 ]; then run_after "$c" "${deps[@]}" & else build_one "$c" & fi
  pids+=($!)
  started+=("$c")
done
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${started[$i]}"); done
summary=$(cd "$times_dir" && cat -- * 2>/dev/null | awk '{printf "%s%s %d s wall, %d CPU-s", (NR > 1 ? "; " : ""), $1, $2, $3}')
[ ${#failed[@]} -eq 0 ] || die "failed to build: ${failed[*]} (see the messages above; $summary)"
say "components ready in $((SECONDS - start)) s: $summary (cache: $CACHE)"
