#!/usr/bin/env bash
# The lab's local images, built before a test run starts (component `images` of
# scripts/build/all.sh, after every component they are made from). Cold, they take minutes
# (debootstrap, a JRE from Debian, npm): built inside a test file's setup they would race its
# deadline and every other test file waiting for the same images. Starts the project's engine
# when no engine answers, and stops it again if it started it, so the test run's own engine
# handling (test/support/global-setup.ts) is unchanged. Warm: seconds.
COMPONENT=images
. "$(dirname "$0")/lib.sh"
engine=$ROOT/scripts/docker/engine.sh
was_running=0
bash "$engine" status 2>&1 | grep -q 'project-owned dockerd [0-9]* at' && was_running=1
eval "$(bash "$engine" engine)"
status=0
exports=$(bash "$ROOT/scripts/docker/images.sh") || status=$?
eval "$exports"
# Lab 3's own images (services, load generator, auto-instrumentation) on the local Node image, for
# the local cluster's tests (scripts/k8s/cluster-images.ts): their npm installs take minutes cold.
[ $status != 0 ] || bash "$ROOT/scripts/k8s/images.sh" "$NODE_IMAGE" otel-lab-local/debian:bookworm >/dev/null || status=$?
if [ $was_running = 0 ] && [ "${OTEL_LAB_ENGINE:-}" = project ]; then bash "$engine" stop; fi
exit $status
