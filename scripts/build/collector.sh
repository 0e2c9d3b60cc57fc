#!/usr/bin/env bash
# Builds one of the lab's collector distributions with the Collector Builder (ocb):
#   bash scripts/build/collector.sh                                   collector/builder-config.yaml
#   bash scripts/build/collector.sh collector/builder-profiles.yaml   Lab 5's profiles collector
# The manifest's release must be the one .env names (OTELCOL_VERSION for the main distribution,
# OTELCOL_PROFILES_VERSION for the profiles one). Cached under
# $CACHE/collector/<release>-<manifest hash>/: rebuilt only when the manifest changes.
# Prints the binary's path on stdout.
COMPONENT=collector
. "$(dirname "$0")/lib.sh"
need go "Go >= 1.24 (Debian: apt-get install golang-go; or https://go.dev/dl)"

manifest=$ROOT/${1:-collector/builder-config.yaml}
[ -f "$manifest" ] || die "no collector manifest $manifest"
case $(basename "$manifest") in
  builder-config.yaml) pin_var=OTELCOL_VERSION ;;
  builder-profiles.yaml) pin_var=OTELCOL_PROFILES_VERSION; COMPONENT=collector-profiles ;;
  *) die "unknown collector manifest $manifest (builder-config.yaml, builder-profiles.yaml)" ;;
esac
release=$(awk '$1 == "version:" {print $2; exit}' "$manifest")
name=$(awk '$1 == "name:" {print $2; exit}' "$manifest")
[ "$release" = "${!pin_var}" ] ||
  die "$(basename "$manifest") pins $release but .env says $pin_var=${!pin_var}: make them agree"
key=$(sha256sum "$manifest" | cut -c1-12)
# The Go checksum database reachable here has no entry for these modules (the proxy serves them):
# go.sum still pins their hashes, they are just not cross-checked against sum.golang.org.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/open-telemetry/opentelemetry-collector-contrib/receiver/githubreceiver
dest=$CACHE/collector/$release-$key
bin=$dest/$name

if [ ! -x "$bin" ]; then
  ocb=$CACHE/tools/ocb-$release/builder
  if [ ! -x "$ocb" ]; then
    run_logged "installing ocb v$release" "$CACHE/ocb-install-$release.log" \
      env GOBIN="$(dirname "$ocb")" go install "go.opentelemetry.io/collector/cmd/builder@v$release"
  fi
  work=$(mktemp -d "$CACHE/collector/.build-XXXXXX" 2>/dev/null || { mkdir -p "$CACHE/collector"; mktemp -d "$CACHE/collector/.build-XXXXXX"; })
  trap 'rm -rf "$work"' EXIT
  # Same manifest, output redirected into the cache.
  sed "s#^\(  output_path:\).*#\1 $work/src#" "$manifest" >"$work/manifest.yaml"
  log=$CACHE/collector-build.log
  [ "$name" = otelcol-lab ] || log=$CACHE/$name-build.log
  run_logged "building $name $release (cold on 2 cores, beside Jaeger and Prometheus: ~15 min for the main one, ~4 min for the profiles one)" "$log" \
    "$ocb" --config "$work/manifest.yaml" --ldflags "-s -w"
  mkdir -p "$work/out" && mv "$work/src/$name" "$work/out/"
  publish "$work/out" "$dest"
  say "built $bin ($(du -m "$bin" | cut -f1) MB)"
fi
echo "$bin"
