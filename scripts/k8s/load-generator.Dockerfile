# The load generator's image for kind: scripts/traffic/main.ts on top of the services image's build
# stage (Node 24, tsx and every dependency; docker compose's `traffic` service uses that stage
# too, with scripts/ mounted, which a kind pod cannot do). Built by scripts/k8s/up.sh:
#   docker build -f services/Dockerfile --target build -t otel-lab/traffic:local .
#   docker build -f scripts/k8s/load-generator.Dockerfile -t otel-lab/load-generator:local .
ARG BASE=otel-lab/traffic:local
FROM ${BASE}
WORKDIR /src
COPY scripts/traffic ./scripts/traffic
# Not root; tsx keeps its compile cache in /tmp (an emptyDir in the Job).
USER 10001:10001
ENTRYPOINT ["node", "--import", "tsx", "scripts/traffic/main.ts"]
