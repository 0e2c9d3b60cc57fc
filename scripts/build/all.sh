#!/usr/bin/env bash
# Builds (or finds in the cache) the lab's native components, in parallel: the Go builds each
# take minutes cold and seconds warm. Progress lines are prefixed by component.
#   bash scripts/build/all.sh [component ...]   (default: what the native lab runs)
# Components: collector prometheus jaeger kafka (scripts/build/), k8s (Lab 3's control plane).
COMPONENT=all
. "$(dirname "$0")/lib.sh"
components=(${@:-collector prometheus jaeger kafka})
script_of() {
  case $1 in
    collector | prometheus | jaeger | kafka) echo "$ROOT/scripts/build/$1.sh" ;;
    k8s) echo "$ROOT/scripts/k8s/control-plane.sh" ;;
    *) die "unknown component '$1' (collector prometheus jaeger kafka k8s)" ;;
  esac
}
for c in "${components[@]}"; do script_of "$c" >/dev/null; done
start=$SECONDS
pids=()
for c in "${components[@]}"; do
  bash "$(script_of "$c")" >/dev/null &
  pids+=($!)
done
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${components[$i]}"); done
[ ${#failed[@]} -eq 0 ] || die "failed to build: ${failed[*]} (see the messages above)"
say "components ready in $((SECONDS - start)) s: ${components[*]} (cache: $CACHE)"
