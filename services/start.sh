#!/bin/sh
# Container entry: runs services/$SERVICE, with our OpenTelemetry bootstrap when
# LAB_INSTRUMENTATION=sdk (the default), without it for zero-code (NODE_OPTIONS --require,
# e.g. injected by the OpenTelemetry Operator) and none. exec: node gets SIGTERM directly.
set -eu
case "${SERVICE:-}" in
  gateway|orders|payments|fulfillment) ;;
  *) echo "start.sh: SERVICE must be gateway, orders, payments or fulfillment (got '${SERVICE:-}')" >&2; exit 2 ;;
esac
case "${LAB_INSTRUMENTATION:-sdk}" in
  sdk) exec node --require /app/services/shared/telemetry.js "/app/services/$SERVICE/main.js" ;;
  zero-code|none) exec node "/app/services/$SERVICE/main.js" ;;
  *) echo "start.sh: LAB_INSTRUMENTATION must be sdk, zero-code or none (got '$LAB_INSTRUMENTATION')" >&2; exit 2 ;;
esac
