# Shared by the kind walkthrough scripts (up.sh, down.sh): versions, cluster name, messages.
# Sourced, not run. These scripts drive a real kind cluster with the machine's own docker,
# kind and kubectl; the tests never use them (they run their own control plane: scripts/k8s/control-plane.ts).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC1091
set -a; . "$ROOT/.env"; set +a
CLUSTER=${OTEL_LAB_CLUSTER:-otel-lab}
CONTEXT=kind-$CLUSTER
# Locally built images: tag as k8s/kustomization.yaml sets it, so the two cannot drift.
TAG=$(awk '/newTag:/ {gsub(/"/, "", $2); print $2; exit}' "$ROOT/k8s/kustomization.yaml")
SERVICES_IMAGE=otel-lab/services:$TAG
LOAD_GENERATOR_IMAGE=otel-lab/load-generator:$TAG

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install $2"; }
k() { kubectl --context "$CONTEXT" "$@"; }

# retry N DELAY CMD...: for steps that fail until a webhook or CRD has come up.
retry() {
  local n=$1 delay=$2 i; shift 2
  for ((i = 1; i <= n; i++)); do
    "$@" && return 0
    [ "$i" -lt "$n" ] && { echo "  (not ready yet, retrying in ${delay}s: $i/$n)" >&2; sleep "$delay"; }
  done
  return 1
}
