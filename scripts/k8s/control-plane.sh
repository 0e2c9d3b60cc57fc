#!/usr/bin/env bash
# The local Kubernetes of Lab 3's tests: etcd, kube-apiserver, kubectl and the OpenTelemetry
# Operator (the control plane), and the rest of a single-node cluster (kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy, containerd, CoreDNS and the node's own images), built from
# the Go module proxy (no cluster and no image can be pulled here).
#
#   bash scripts/k8s/control-plane.sh [build]
#
# Builds what is missing (in parallel; cold ~7 min on 2 cores, instant when cached) under
# $CACHE/k8s/<component>/<version>-<wrapper hash>/ and prints one `name=path` line per artifact:
#   etcd, kube-apiserver, kubectl, operator (binaries), operator-crds (dir of CRD YAML),
#   operator-versions (its versions.txt), operator-nodejs (autoinstrumentation/nodejs of that release),
#   operator-webhooks (its config/webhook/manifests.yaml: the webhooks to register),
#   kubectl-cache (the directory kubectl caches discovery in: KUBECACHEDIR);
#   the node: kube-controller-manager, kube-scheduler, kubelet, kube-proxy, containerd,
#   containerd-shim-runc-v2, ctr (binaries), and node-images (a dir of docker-archive tars:
#   pause, coredns, probe, with images.txt naming each tar's image), target-allocator-image (the
#   same for the operator's Target Allocator).
# Versions: .env (KUBERNETES_VERSION, ETCD_VERSION, OPERATOR_VERSION, CONTAINERD_VERSION, COREDNS_VERSION).
# Starting and stopping them is scripts/k8s/control-plane.ts and scripts/k8s/cluster.ts (the
# paths: scripts/k8s/artifacts.ts).
COMPONENT=k8s
. "$(dirname "$0")/../build/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[ "${1:-build}" = build ] || die "usage: $0 [build]"

export CGO_ENABLED=0
K8S=$KUBERNETES_VERSION
# A wrapper's main.go changing rebuilds it; nothing else does.
wrapper_hash() { cat "$@" | sha256sum | cut -c1-10; }
# module_copy MODULE@VERSION DEST: a writable copy of a module's directory, for the modules whose
# commands `go install` cannot build (replace directives, build tags, or no version list served).
module_copy() {
  local dir
  dir=$(go mod download -json "$1" | awk -F'"' '$2 == "Dir" {print $4}') && [ -d "$dir" ] || return 1
  cp -r "$dir" "$2" && chmod -R u+w "$2"
}
etcd_dir=$CACHE/k8s/etcd/v$ETCD_VERSION-$(wrapper_hash "$here/cmd/etcd/main.go")
KUBE_COMMANDS=(kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)
kube_mains=()
for c in "${KUBE_COMMANDS[@]}"; do kube_mains+=("$here/cmd/$c/main.go"); done
kube_dir=$CACHE/k8s/kubernetes/v$K8S-$(wrapper_hash "${kube_mains[@]}")
operator_dir=$CACHE/k8s/operator/v$OPERATOR_VERSION
containerd_dir=$CACHE/k8s/containerd/v$CONTAINERD_VERSION
ta_dir=$CACHE/k8s/target-allocator/v$OPERATOR_VERSION-$(wrapper_hash "$here/node-image.sh")
images_dir=$CACHE/k8s/node-images/coredns-v$COREDNS_VERSION-$(wrapper_hash "$here/cmd/pause/main.go" "$here/cmd/probe/main.go" "$here/node-image.sh")
mkdir -p "$CACHE/k8s/etcd" "$CACHE/k8s/kubernetes" "$CACHE/k8s/operator" "$CACHE/k8s/containerd" "$CACHE/k8s/node-images" "$CACHE/k8s/target-allocator"
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

# The Kubernetes commands (KUBE_COMMANDS), in one go build: k8s.io/kubernetes lists its staging modules (k8s.io/api, ...) at
# v0.0.0 and replaces them with local paths; a dependent module must replace each one with the
# published v0.X.Y itself. The list is read from that release's go.mod, not kept by hand.
build_kubernetes() {
  local work=$1 minor=${K8S#*.}
  minor=${minor%%.*}
  mkdir -p "$work/src/cmd" && cd "$work/src" || return 1
  local c pkgs=()
  for c in "${KUBE_COMMANDS[@]}"; do cp -r "$here/cmd/$c" cmd/ && pkgs+=("./cmd/$c"); done
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
  go build -trimpath -ldflags "-s -w$x" -o "$work/out/" "${pkgs[@]}"
}

# containerd, its runc shim and ctr: the module has no replace directives, but `go install` of a
# module's command ignores its go.mod's build tags, so its directory is copied out and built
# there. Tags as the release Makefile's for a static build without btrfs; the shim as upstream
# builds it (no cgo, no grpc).
build_containerd() {
  local work=$1
  module_copy "github.com/containerd/containerd/v2@v$CONTAINERD_VERSION" "$work/src" && cd "$work/src" || return 1
  local x="-X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION"
  go build -trimpath -tags "no_btrfs urfave_cli_no_docs" -ldflags "-s -w $x" -o "$work/out/" ./cmd/containerd ./cmd/ctr &&
    go build -trimpath -tags "urfave_cli_no_docs no_grpc" -ldflags "-s -w $x" -o "$work/out/" ./cmd/containerd-shim-runc-v2
}

# The node's own images (no registry to pull from): CoreDNS (its module root is package main),
# the pod sandbox's pause and the probe workload (scripts/k8s/cmd), each a static binary in a
# one-layer docker-archive tar (scripts/k8s/node-image.sh) that `ctr images import` reads.
build_node_images() {
  local work=$1
  module_copy "github.com/coredns/coredns@v$COREDNS_VERSION" "$work/coredns" || return 1
  (cd "$work/coredns" && go build -trimpath -ldflags "-s -w" -o "$work/bin/coredns" .) || return 1
  local c
  for c in pause probe; do
    mkdir -p "$work/$c" && cp "$here/cmd/$c/main.go" "$work/$c/" &&
      (cd "$work/$c" && go mod init "otel-lab/$c" >/dev/null 2>&1 && go build -trimpath -ldflags "-s -w" -o "$work/bin/$c" .) || return 1
  done
  bash "$here/node-image.sh" "$work/bin/coredns" "otel-lab-local/coredns:$COREDNS_VERSION" "$work/out/coredns.tar" &&
    bash "$here/node-image.sh" "$work/bin/pause" "otel-lab-local/pause:$K8S" "$work/out/pause.tar" &&
    bash "$here/node-image.sh" "$work/bin/probe" "otel-lab-local/probe:$K8S" "$work/out/probe.tar" &&
    printf '%s\n' "coredns.tar otel-lab-local/coredns:$COREDNS_VERSION" "pause.tar otel-lab-local/pause:$K8S" \
      "probe.tar otel-lab-local/probe:$K8S" >"$work/out/images.txt"
}

# The operator: `go install` of it fails (the proxy refuses its version list), so its module
# directory is copied out of the module cache and built there, with the Makefile's version
# ldflags (without them it would default every image it injects to :0.0.0).
build_operator() {
  local work=$1
  module_copy "github.com/open-telemetry/opentelemetry-operator@v$OPERATOR_VERSION" "$work/src" && cd "$work/src" || return 1
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

# The operator's Target Allocator (cmd/otel-allocator of the same module) and its image: the
# official one is the binary as /main, user 65532, entrypoint ./main; so is this one.
build_target_allocator() {
  local work=$1
  module_copy "github.com/open-telemetry/opentelemetry-operator@v$OPERATOR_VERSION" "$work/src" && cd "$work/src" || return 1
  mkdir -p "$work/bin" && go build -trimpath -ldflags "-s -w" -o "$work/bin/main" ./cmd/otel-allocator &&
    bash "$here/node-image.sh" "$work/bin/main" "otel-lab-local/target-allocator:$OPERATOR_VERSION" "$work/out/target-allocator.tar" 65532:65532 &&
    echo "target-allocator.tar otel-lab-local/target-allocator:$OPERATOR_VERSION" >"$work/out/images.txt"
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
kube_built() { local c; for c in "${KUBE_COMMANDS[@]}"; do [ -x "$kube_dir/$c" ] || return 1; done; }
kube_built || missing+=(kubernetes)
[ -x "$operator_dir/operator" ] || missing+=(operator)
[ -x "$containerd_dir/containerd" ] || missing+=(containerd)
[ -f "$images_dir/images.txt" ] || missing+=(node-images)
[ -f "$ta_dir/images.txt" ] || missing+=(target-allocator)
[ ${#missing[@]} -eq 0 ] ||
  need go "Go >= 1.25 (Debian: apt-get install golang-go; or https://go.dev/dl): ${missing[*]} must be built from Go modules"

start=$SECONDS
pids=() names=()
[ -x "$etcd_dir/etcd" ] || { build etcd "$etcd_dir" "building etcd v$ETCD_VERSION (cold on 2 cores, beside the others: ~3 min)" & pids+=($!); names+=(etcd); }
kube_built || { build kubernetes "$kube_dir" "building kube-apiserver, kubectl, kube-controller-manager, kube-scheduler, kubelet, kube-proxy v$K8S (cold on 2 cores, beside the operator: ~20 min)" & pids+=($!); names+=(kubernetes); }
[ -x "$containerd_dir/containerd" ] || { build containerd "$containerd_dir" "building containerd v$CONTAINERD_VERSION (cold on 2 cores, beside the others: ~5 min)" & pids+=($!); names+=(containerd); }
[ -f "$images_dir/images.txt" ] || { build node_images "$images_dir" "building the node's images: CoreDNS v$COREDNS_VERSION, pause, probe (cold on 2 cores, beside the others: ~4 min)" & pids+=($!); names+=(node-images); }
[ -f "$ta_dir/images.txt" ] || { build target_allocator "$ta_dir" "building the operator's Target Allocator v$OPERATOR_VERSION (cold on 2 cores, beside the others: ~5 min)" & pids+=($!); names+=(target-allocator); }
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
kube-controller-manager=$kube_dir/kube-controller-manager
kube-scheduler=$kube_dir/kube-scheduler
kubelet=$kube_dir/kubelet
kube-proxy=$kube_dir/kube-proxy
containerd=$containerd_dir/containerd
containerd-shim-runc-v2=$containerd_dir/containerd-shim-runc-v2
ctr=$containerd_dir/ctr
node-images=$images_dir
target-allocator-image=$ta_dir
EOF
