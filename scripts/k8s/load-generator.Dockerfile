# The load generator's image for Kubernetes: scripts/traffic/main.ts (Node built-ins only),
# compiled to JavaScript with the services image's build stage (esbuild inside), run on the
# services image itself: the two images share every layer but the last, so loading both into a
# node (kind load, ctr images import) costs one small layer more. Built by scripts/k8s/images.sh:
#   docker build -f services/Dockerfile --target build -t otel-lab/traffic:local .
#   docker build -f scripts/k8s/load-generator.Dockerfile -t otel-lab/load-generator:local .
ARG BASE=otel-lab/traffic:local
ARG RUNTIME=otel-lab/services:local

FROM ${BASE} AS build
WORKDIR /src
COPY scripts/traffic ./scripts/traffic
RUN node_modules/.bin/esbuild scripts/traffic/*.ts --outdir=/out --format=esm --platform=node --target=node24 --log-level=warning \
 && echo '{"type":"module"}' > /out/package.json

FROM ${RUNTIME}
WORKDIR /load
COPY --from=build /out ./
# Not root (the services image's user).
USER 10001:10001
ENTRYPOINT ["node", "/load/main.js"]
