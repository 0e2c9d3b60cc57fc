#!/usr/bin/env bash
# Builds Jaeger v2 (all-in-one: OTLP in, in-memory store, query API) from the Go module proxy
# into $CACHE/jaeger/<module version>/. `go install` of it is refused (its go.mod has replace
# directives), so it is built as a tool of a scratch module. Its UI is a placeholder page in
# this build (the UI assets are not in the module); the query API is complete.
COMPONENT=jaeger
. "$(dirname "$0")/lib.sh"
need go "Go >= 1.24 (Debian: apt-get install golang-go; or https://go.dev/dl)"

dest=$CACHE/jaeger/$JAEGER_MODULE
if [ ! -x "$dest/jaeger" ]; then
  mkdir -p "$CACHE/jaeger"
  work=$(mktemp -d "$CACHE/jaeger/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  build() {
    cd "$work" && go mod init otel-lab/jaeger-build &&
      go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE" &&
      go build -ldflags "-s -w" -o out/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
  }
  run_logged "building jaeger $JAEGER_MODULE (cold on 2 cores, beside the collector and Prometheus: ~15 min)" "$CACHE/jaeger-build.log" build
  publish "$work/out" "$dest"
  rm -rf "$work"; trap - EXIT
fi
echo "$dest/jaeger"
