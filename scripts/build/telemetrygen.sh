#!/usr/bin/env bash
# Builds telemetrygen, the collector project's load generator (contrib module cmd/telemetrygen),
# at the lab's collector release, for `npm run bench:pipeline`. Cached under
# $CACHE/telemetrygen/<release>/. Prints the binary's path on stdout.
COMPONENT=telemetrygen
. "$(dirname "$0")/lib.sh"
need go "Go >= 1.24 (Debian: apt-get install golang-go; or https://go.dev/dl)"

dest=$CACHE/telemetrygen/$OTELCOL_VERSION
bin=$dest/telemetrygen
if [ ! -x "$bin" ]; then
  mkdir -p "$CACHE/telemetrygen"
  work=$(mktemp -d "$CACHE/telemetrygen/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  run_logged "building telemetrygen v$OTELCOL_VERSION (cold: ~2 min on 2 cores)" "$CACHE/telemetrygen-build.log" \
    env GOBIN="$work" go install -ldflags "-s -w" \
      "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v$OTELCOL_VERSION"
  publish "$work" "$dest"
  trap - EXIT
  say "built $bin ($(du -m "$bin" | cut -f1) MB)"
fi
echo "$bin"
