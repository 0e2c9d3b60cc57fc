#!/usr/bin/env bash
# Builds the lab's collector (collector/builder-config.yaml) with the Collector Builder.
# Cached under $CACHE/collector/<release>-<manifest hash>/: rebuilt only when the manifest changes.
# Prints the binary's path on stdout.
COMPONENT=collector
. "$(dirname "$0")/lib.sh"
need go "Go >= 1.24 (Debian: apt-get install golang-go; or https://go.dev/dl)"

manifest=$ROOT/collector/builder-config.yaml
release=$(awk '$1 == "version:" {print $2; exit}' "$manifest")
[ "$release" = "$OTELCOL_VERSION" ] ||
  die "collector/builder-config.yaml pins $release but .env says OTELCOL_VERSION=$OTELCOL_VERSION: make them agree"
key=$(sha256sum "$manifest" | cut -c1-12)
# The Go checksum database reachable here has no entry for these modules (the proxy serves them):
# go.sum still pins their hashes, they are just not cross-checked against sum.golang.org.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/open-telemetry/opentelemetry-collector-contrib/receiver/githubreceiver
dest=$CACHE/collector/$release-$key
bin=$dest/otelcol-lab

if [ ! -x "$bin" ]; then
  ocb=$CACHE/tools/ocb-$release/builder
  if [ ! -x "$ocb" ]; then
    run_logged "installing ocb v$release" "$CACHE/ocb-install.log" \
      env GOBIN="$(dirname "$ocb")" go install "go.opentelemetry.io/collector/cmd/builder@v$release"
  fi
  work=$(mktemp -d "$CACHE/collector/.build-XXXXXX" 2>/dev/null || { mkdir -p "$CACHE/collector"; mktemp -d "$CACHE/collector/.build-XXXXXX"; })
  trap 'rm -rf "$work"' EXIT
  # Same manifest, output redirected into the cache.
  sed "s#^\(  output_path:\).*#\1 $work/src#" "$manifest" >"$work/manifest.yaml"
  run_logged "building collector $release (cold: ~5 min on 2 cores)" "$CACHE/collector-build.log" \
    "$ocb" --config "$work/manifest.yaml" --ldflags "-s -w"
  mkdir -p "$work/out" && mv "$work/src/otelcol-lab" "$work/out/"
  publish "$work/out" "$dest"
  say "built $bin ($(du -m "$bin" | cut -f1) MB)"
fi
echo "$bin"
