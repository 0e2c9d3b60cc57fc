#!/usr/bin/env bash
# Builds (or finds in the cache) every native component of the lab, in parallel: the Go builds
# each take minutes cold and seconds warm. Progress lines are prefixed by component.
COMPONENT=all
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
components=(${@:-collector prometheus jaeger kafka})
start=$SECONDS
pids=()
for c in "${components[@]}"; do
  bash "$here/$c.sh" >/dev/null &
  pids+=($!)
done
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${components[$i]}"); done
[ ${#failed[@]} -eq 0 ] || die "failed to build: ${failed[*]} (see the messages above)"
say "components ready in $((SECONDS - start)) s: ${components[*]} (cache: $CACHE)"
