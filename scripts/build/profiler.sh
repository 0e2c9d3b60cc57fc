#!/usr/bin/env bash
# Lab 5: builds the OpenTelemetry eBPF profiler (go.opentelemetry.io/ebpf-profiler, version in
# .env) and the collector that reads its OTLP profiles (collector/builder-profiles.yaml, the
# profiler's collector release). Prints the profiler's path on stdout.
#
# The profiler's module ships its compiled eBPF programs (support/ebpf/tracer.ebpf.*, embedded),
# so no clang is needed: a static Go build of the main package of a copy of the module directory
# (`go install` and `go mod download` of the whole module fail here on a test-only dependency
# the proxy does not serve). The copy gets scripts/build/patches/*.patch (why: in the patch).
# Cached under $CACHE/profiler/<version>-<patches hash>/.
COMPONENT=profiler
. "$(dirname "$0")/lib.sh"
need go "Go >= 1.24 (Debian: apt-get install golang-go; or https://go.dev/dl)"
need git "git (to apply the lab's patch to the profiler's source)"

# The profiles collector first (its own cache; seconds when built).
bash "$ROOT/scripts/build/collector.sh" collector/builder-profiles.yaml >/dev/null

module=go.opentelemetry.io/ebpf-profiler
patches=("$ROOT"/scripts/build/patches/ebpf-profiler-*.patch)
key=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
dest=$CACHE/profiler/$EBPF_PROFILER_VERSION-$key
bin=$dest/ebpf-profiler

if [ ! -x "$bin" ]; then
  mkdir -p "$CACHE/profiler" "$CACHE/logs"
  work=$(mktemp -d "$CACHE/profiler/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  build() {
    local dir
    dir=$(go mod download -json "$module@$EBPF_PROFILER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir" ] || { echo "go mod download $module@$EBPF_PROFILER_VERSION gave no directory"; return 1; }
    cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
    for p in "${patches[@]}"; do (cd "$work/src" && git apply --verbose "$p") || return 1; done
    # Static: no cgo, Go's own user and DNS resolvers (osusergo, netgo), as upstream builds it.
    (cd "$work/src" && CGO_ENABLED=0 go build -tags osusergo,netgo -ldflags "-s -w" -o "$work/out/ebpf-profiler" .)
  }
  run_logged "building ebpf-profiler $EBPF_PROFILER_VERSION (cold on 2 cores: ~2 min)" "$CACHE/logs/profiler-build.log" build
  publish "$work/out" "$dest"
  rm -rf "$work"; trap - EXIT
  say "built $bin ($(du -m "$bin" | cut -f1) MB)"
fi
echo "$bin"
