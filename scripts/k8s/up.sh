#!/usr/bin/env bash
# Lab 3 on a local kind cluster, from nothing to traces in Jaeger:
#   1. a kind cluster   2. cert-manager and the OpenTelemetry Operator (pinned releases)
#   3. the images built here (services, load generator, Node.js auto-instrumentation), loaded
#      into kind   4. kubectl apply -k k8s
#   5. wait until everything is ready and check the operator injected the services
#   6. print where to look.
# Needs docker, kind and kubectl, and internet access for the public images. Re-running is safe.
# Tear down: scripts/k8s/down.sh
. "$(dirname "$0")/lib.sh"
need docker "Docker (https://docs.docker.com/get-docker/)"
need kind "kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
need kubectl "kubectl (https://kubernetes.io/docs/tasks/tools/)"

say "1/6 kind cluster '$CLUSTER' ($KIND_NODE_IMAGE)"
# A node image is built for one kind release: say so rather than fail obscurely later.
kind_version=$(kind version)
[[ $kind_version == *"v$KIND_VERSION "* ]] ||
  echo "warning: '$kind_version' is not kind v$KIND_VERSION, the release $KIND_NODE_IMAGE is pinned for" >&2
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  echo "already exists"
else
  kind create cluster --name "$CLUSTER" --image "$KIND_NODE_IMAGE" --wait 120s
fi

say "2/6 cert-manager v$CERT_MANAGER_VERSION and the OpenTelemetry Operator v$OPERATOR_VERSION"
k apply -f "https://github.com/cert-manager/cert-manager/releases/download/v$CERT_MANAGER_VERSION/cert-manager.yaml"
k -n cert-manager wait --for=condition=Available deployment --all --timeout=180s
# The operator's webhook certificate comes from cert-manager, whose own webhook takes a moment.
retry 10 6 k apply --server-side -f \
  "https://github.com/open-telemetry/opentelemetry-operator/releases/download/v$OPERATOR_VERSION/opentelemetry-operator.yaml"
k -n opentelemetry-operator-system wait --for=condition=Available deployment --all --timeout=180s

say "3/6 images: $SERVICES_IMAGE, $LOAD_GENERATOR_IMAGE, $LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE"
bash "$ROOT/scripts/k8s/images.sh" "$NODE_IMAGE" >/dev/null
kind load docker-image "$SERVICES_IMAGE" "$LOAD_GENERATOR_IMAGE" "$LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE" --name "$CLUSTER"

say "4/6 kubectl apply -k k8s"
# Retried while the operator's webhooks start answering.
retry 10 6 k apply -k "$ROOT/k8s"

say "5/6 waiting for the lab to be ready"
# The operator creates the collectors' workloads a moment after their CRs.
retry 20 3 k -n otel-lab get deployment/lb-collector statefulset/sampler-collector statefulset/metrics-collector \
  deployment/metrics-targetallocator >/dev/null
k -n otel-lab wait --for=condition=Available deployment --all --timeout=300s
for sts in $(k -n otel-lab get statefulset -o name); do k -n otel-lab rollout status "$sts" --timeout=300s; done
# A pod created before the operator had the Instrumentation is not instrumented: restart it.
for s in gateway orders payments fulfillment; do
  init=$(k -n otel-lab get pods -l "app.kubernetes.io/name=$s" -o jsonpath='{.items[*].spec.initContainers[*].name}')
  if [[ $init != *opentelemetry-auto-instrumentation-nodejs* ]]; then
    echo "$s was started before the Instrumentation existed: restarting it to get instrumented"
    k -n otel-lab rollout restart "deployment/$s"
    k -n otel-lab rollout status "deployment/$s" --timeout=180s
  fi
done
k -n otel-lab get pods -o wide

say "6/6 where to look"
cat <<MSG
The load generator sends orders for 10 minutes (kubectl -n otel-lab logs job/load-generator -f).

  Traces the tail-sampling tier kept (errors, slow ones, 10 % of the rest):
    kubectl --context $CONTEXT -n otel-lab port-forward svc/jaeger 16686   ->  http://localhost:16686
  Metrics (OTLP from the services, scraped /metrics via the Target Allocator):
    kubectl --context $CONTEXT -n otel-lab port-forward svc/prometheus 9090  ->  http://localhost:9090
  What the operator injected into a service:
    kubectl --context $CONTEXT -n otel-lab get pod -l app.kubernetes.io/name=gateway -o yaml
  Send your own order:
    kubectl --context $CONTEXT -n otel-lab port-forward svc/gateway 8080
    curl -si -X POST localhost:8080/orders -H 'content-type: application/json' -d '{}'

Tear down: scripts/k8s/down.sh
MSG
