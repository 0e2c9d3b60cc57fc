#!/usr/bin/env bash
# The local control plane of Lab 3's tests: etcd, kube-apiserver, kubectl and the OpenTelemetry
# Operator, built from the Go module proxy (no cluster and no image can be pulled here).
#
#   bash scripts/k8s/control-plane.sh [build]
#
# Builds what is missing (in parallel; cold ~7 min on 2 cores, instant when cached) under
# $CACHE/k8s/<component>/<version>-<wrapper hash>/ and prints one `name=path` line per artifact:
#   etcd, kube-apiserver, kubectl, operator (binaries), operator-crds (dir of CRD YAML),
#   operator-versions (its versions.txt), operator-nodejs (autoinstrumentation/nodejs of that release),
#   operator-webhooks (its config/webhook/manifests.yaml: the webhooks to register),
#   kubectl-cache (the directory kubectl caches discovery in: KUBECACHEDIR).
# Versions: .env (KUBERNETES_VERSION, ETCD_VERSION, OPERATOR_VERSION).
# Starting and stopping them is scripts/k8s/control-plane.ts (the paths: scripts/k8s/artifacts.ts).
COMPONENT=k8s
. "$(dirname "$0")/../build/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[ "${1:-build}" = build ] || die "usage: $0 [build]"

export CGO_ENABLED=0
K8S=$KUBERNETES_VERSION
# A wrapper's main.go changing rebuilds it; nothing else does.
wrapper_hash() { cat "$@" | sha256sum | cut -c1-10; }
etcd_dir=$CACHE/k8s/etcd/v$ETCD_VERSION-$(wrapper_hash "$here/cmd/etcd/main.go")
kube_dir=$CACHE/k8s/kubernetes/v$K8S-$(wrapper_hash "$here/cmd/kube-apiserver/main.go" "$here/cmd/kubectl/main.go")
operator_dir=$CACHE/k8s/operator/v$OPERATOR_VERSION
mkdir -p "$CACHE/k8s/etcd" "$CACHE/k8s/kubernetes" "$CACHE/k8s/operator"
# One build at a time (test files start in parallel): the second waits, then finds it cached.
exec 9>"$CACHE/k8s/.build.lock"
flock -n 9 || { say "another control-plane build is running: waiting for it"; flock 9; }

# etcd: its own main (etcdmain.Main) in a one-line wrapper module.
build_etcd() {
  local work=$1
  mkdir -p "$work/src" && cp "$here/cmd/etcd/main.go" "$work/src/" && cd "$work/src" &&
    go mod init otel-lab/etcd &&
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" &&
    go mod tidy &&
    go build -trimpath -ldflags "-s -w" -o "$work/out/etcd" .
}

# kube-apiserver + kubectl: k8s.io/kubernetes lists its staging modules (k8s.io/api, ...) at
# v0.0.0 and replaces them with local paths; a dependent module must replace each one with the
# published v0.X.Y itself. The list is read from that release's go.mod, not kept by hand.
build_kubernetes() {
  local work=$1 minor=${K8S#*.}
  minor=${minor%%.*}
  mkdir -p "$work/src/cmd" && cp -r "$here/cmd/kube-apiserver" "$here/cmd/kubectl" "$work/src/cmd/" && cd "$work/src" || return 1
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S" | awk -F'"' '$2 == "GoMod" {print $4}') && [ -f "$gomod" ] || return 1
  {
    printf 'module otel-lab/kubernetes\n\ngo 1.25\n\nrequire k8s.io/kubernetes v%s\n\n' "$K8S"
    awk -v v="v0.${K8S#1.}" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {printf "replace %s => %s %s\n", $1, $1, v}' "$gomod"
  } >go.mod
  say "kubernetes: $(grep -c '^replace' go.mod) staging modules replaced by their v0.${K8S#1.} releases"
  go mod tidy || return 1
  local x='' pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    x+=" -X $pkg.gitVersion=v$K8S -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  go build -trimpath -ldflags "-s -w$x" -o "$work/out/" ./cmd/kube-apiserver ./cmd/kubectl
}

# The operator: `go install` of it fails (the proxy refuses its version list), so its module
# directory is copied out of the module cache and built there, with the Makefile's version
# ldflags (without them it would default every image it injects to :0.0.0).
build_operator() {
  local work=$1 dir
  dir=$(go mod download -json "github.com/open-telemetry/opentelemetry-operator@v$OPERATOR_VERSION" |
    awk -F'"' '$2 == "Dir" {print $4}') && [ -d "$dir" ] || return 1
  cp -r "$dir" "$work/src" && chmod -R u+w "$work/src" && cd "$work/src" || return 1
  local v=github.com/open-telemetry/opentelemetry-operator/internal/version x
  x="-X $v.version=$OPERATOR_VERSION -X $v.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # versions.txt keys -> internal/version variables, as in the operator's Makefile.
  local key var
  for key in opentelemetry-collector:otelCol targetallocator:targetAllocator \
    operator-opamp-bridge:operatorOpAMPBridge autoinstrumentation-java:autoInstrumentationJava \
    autoinstrumentation-nodejs:autoInstrumentationNodeJS autoinstrumentation-python:autoInstrumentationPython \
    autoinstrumentation-dotnet:autoInstrumentationDotNet autoinstrumentation-go:autoInstrumentationGo \
    autoinstrumentation-apache-httpd:autoInstrumentationApacheHttpd autoinstrumentation-nginx:autoInstrumentationNginx; do
    var=$(awk -F= -v k="${key%%:*}" '$1 == k {print $2}' versions.txt)
    [ -n "$var" ] || { echo "versions.txt has no ${key%%:*}"; return 1; }
    x+=" -X $v.${key#*:}=$var"
  done
  go build -trimpath -ldflags "-s -w $x" -o "$work/out/operator" . || return 1
  cp -r config/crd/bases "$work/out/crds" && cp versions.txt "$work/out/" &&
    cp config/webhook/manifests.yaml "$work/out/webhooks.yaml" &&
    cp -r autoinstrumentation/nodejs "$work/out/autoinstrumentation-nodejs"
}

# build NAME DEST LABEL: runs build_NAME in a scratch dir, publishes DEST only if it succeeded.
build() {
  local name=$1 dest=$2 label=$3 work
  work=$(mktemp -d "$(dirname "$dest")/.build-XXXXXX")
  mkdir -p "$work/out"
  run_logged "$label" "$CACHE/k8s/$name-build.log" "build_$name" "$work"
  publish "$work/out" "$dest"
  rm -rf "$work"
}

missing=()
[ -x "$etcd_dir/etcd" ] || missing+=(etcd)
[ -x "$kube_dir/kubectl" ] || missing+=(kube-apiserver/kubectl)
[ -x "$operator_dir/operator" ] || missing+=(operator)
[ ${#missing[@]} -eq 0 ] ||
  need go "Go >= 1.25 (Debian: apt-get install golang-go; or https://go.dev/dl): ${missing[*]} must be built from Go modules"

start=$SECONDS
pids=() names=()
[ -x "$etcd_dir/etcd" ] || { build etcd "$etcd_dir" "building etcd v$ETCD_VERSION (cold on 2 cores, beside the others: ~3 min)" & pids+=($!); names+=(etcd); }
[ -x "$kube_dir/kubectl" ] || { build kubernetes "$kube_dir" "building kube-apiserver + kubectl v$K8S (cold on 2 cores, beside the operator: ~16 min)" & pids+=($!); names+=(kubernetes); }
[ -x "$operator_dir/operator" ] || { build operator "$operator_dir" "building opentelemetry-operator v$OPERATOR_VERSION (cold on 2 cores, beside kube-apiserver: ~15 min)" & pids+=($!); names+=(operator); }
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
[ ${#failed[@]} -eq 0 ] || die "failed to build: ${failed[*]} (logs: $CACHE/k8s/<name>-build.log)"
[ ${#pids[@]} -eq 0 ] || say "control plane built in $((SECONDS - start)) s (cache: $CACHE/k8s)"

cat <<EOF
etcd=$etcd_dir/etcd
kube-apiserver=$kube_dir/kube-apiserver
kubectl=$kube_dir/kubectl
operator=$operator_dir/operator
operator-crds=$operator_dir/crds
operator-versions=$operator_dir/versions.txt
operator-nodejs=$operator_dir/autoinstrumentation-nodejs
operator-webhooks=$operator_dir/webhooks.yaml
kubectl-cache=$CACHE/k8s/kubectl-cache
EOF
