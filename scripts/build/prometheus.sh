#!/usr/bin/env bash
# Builds Prometheus 3 and promtool from the Go module proxy into $CACHE/prometheus/<version>/.
# Prints the prometheus binary's path. The web UI's assets are not in the Go module, so the UI
# answers 500 in this build; the HTTP API (what the tests and the lab script use) is complete.
COMPONENT=prometheus
. "$(dirname "$0")/lib.sh"
need go "Go >= 1.24 (Debian: apt-get install golang-go; or https://go.dev/dl)"

# Only the service discoveries the lab configures (file_sd, http_sd and static are always in):
# `remove_all_sd` drops AWS, Azure, GCE, Consul, Kubernetes and the rest, about a third of the
# packages to compile (1,731 -> 1,115, from `go list -deps`). The tags are part of the cache key.
tags=remove_all_sd
dest=$CACHE/prometheus/$PROMETHEUS_VERSION-$tags
if [ ! -x "$dest/prometheus" ]; then
  mkdir -p "$CACHE/prometheus"
  work=$(mktemp -d "$CACHE/prometheus/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # Without these ldflags `prometheus --version` prints nothing useful.
  ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=module"
  run_logged "building prometheus $PROMETHEUS_VERSION ($PROMETHEUS_MODULE; cold on 2 cores, beside the collector and Jaeger: ~12 min)" "$CACHE/prometheus-build.log" \
    env GOBIN="$work" go install -tags "$tags" -ldflags "$ldflags" \
      "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE" \
      "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE"
  publish "$work" "$dest"
  trap - EXIT
fi
echo "$dest/prometheus"
