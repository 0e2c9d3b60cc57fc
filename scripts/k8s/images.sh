#!/usr/bin/env bash
# The three images Lab 3's manifests name that no registry has: the services (services/Dockerfile,
# the same image and tag as docker-compose.yml), the load generator
# (scripts/k8s/load-generator.Dockerfile) and the Node.js auto-instrumentation the operator
# injects (images/autoinstrumentation-nodejs). Built with whichever engine `docker` reaches; used
# by scripts/k8s/up.sh (then loaded into kind) and by the local cluster (scripts/k8s/node-images.ts,
# then imported into its containerd). Docker's layer cache makes a rebuild seconds.
#
#   bash scripts/k8s/images.sh [NODE_IMAGE [BASE_IMAGE]]
#     NODE_IMAGE  an image with node and npm (default: .env's NODE_IMAGE)
#     BASE_IMAGE  an image with `cp` for the auto-instrumentation (default: busybox, as the operator's)
# stdout: the three image names, one a line.
. "$(dirname "$0")/lib.sh"
need docker "Docker (https://docs.docker.com/get-docker/)"
node_image=${1:-$NODE_IMAGE}
base_image=${2:-busybox:1.37.0}
# LAB_BUILD_NETWORK=host on the project's engine, which sets up no NAT (scripts/docker/images.sh).
build() { docker build -q --network "${LAB_BUILD_NETWORK:-default}" "$@" >/dev/null || die "docker build $* failed"; }
say "images: $SERVICES_IMAGE, $LOAD_GENERATOR_IMAGE, $LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE (on $node_image)"
build -t "$SERVICES_IMAGE" --build-arg "NODE_IMAGE=$node_image" -f "$ROOT/services/Dockerfile" "$ROOT"
# The load generator: scripts/traffic compiled by the services Dockerfile's build stage, run on the services image.
build -t "otel-lab/traffic:$TAG" --target build --build-arg "NODE_IMAGE=$node_image" -f "$ROOT/services/Dockerfile" "$ROOT"
build -t "$LOAD_GENERATOR_IMAGE" --build-arg "BASE=otel-lab/traffic:$TAG" --build-arg "RUNTIME=$SERVICES_IMAGE" \
  -f "$ROOT/scripts/k8s/load-generator.Dockerfile" "$ROOT"
# What the operator injects (k8s/instrumentation.yaml): the lab's own image, with the
# @opentelemetry/api the services use (package-lock.json), not the operator's default.
build -t "$LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE" --build-arg "NODE_IMAGE=$node_image" --build-arg "BASE_IMAGE=$base_image" \
  -f "$ROOT/images/autoinstrumentation-nodejs/Dockerfile" "$ROOT"
printf '%s\n' "$SERVICES_IMAGE" "$LOAD_GENERATOR_IMAGE" "$LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE"
