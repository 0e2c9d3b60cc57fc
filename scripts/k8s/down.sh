#!/usr/bin/env bash
# Deletes Lab 3's kind cluster (everything in it goes with it).
. "$(dirname "$0")/lib.sh"
need kind "kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind delete cluster --name "$CLUSTER"
else
  echo "no kind cluster named '$CLUSTER'"
fi
