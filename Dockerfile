# One image for every Cloakroom service; the command picks the service.
#   docker build -t cloakroom .
#   docker run --rm cloakroom node apps/authorization-server/dist/main.js
# The image holds the compiled services and their production dependencies only: no sources, tests, benchmarks or
# demo configuration. test/deploy/docker.spec.ts checks these rules.

FROM node:24-slim AS build
WORKDIR /app
# The dependencies first, from the manifests alone: this layer is rebuilt only when a manifest changes, not at
# every source edit. Every workspace's package.json is needed for npm to link the workspaces.
COPY package.json package-lock.json ./
COPY libs/config/package.json libs/config/
COPY libs/envelope/package.json libs/envelope/
COPY libs/sealed-store/package.json libs/sealed-store/
COPY libs/bff/package.json libs/bff/
COPY libs/ops/package.json libs/ops/
COPY libs/oidc-adapter/package.json libs/oidc-adapter/
COPY libs/resource-server/package.json libs/resource-server/
COPY libs/token-budget/package.json libs/token-budget/
COPY apps/authorization-server/package.json apps/authorization-server/
COPY apps/gateway/package.json apps/gateway/
COPY apps/demo-api/package.json apps/demo-api/
COPY apps/cli/package.json apps/cli/
# Every native dependency ships prebuilt binaries: no install scripts needed.
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.base.json tsconfig.build.json ./
COPY libs libs
COPY apps apps
RUN npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -f libs/*/dist/.tsbuildinfo apps/*/dist/.tsbuildinfo

FROM node:24-slim
# MANAGEMENT_HOST: the probes and Prometheus reach the management port from outside the container.
ENV NODE_ENV=production HOST=0.0.0.0 MANAGEMENT_HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only to the service's user: a compromised process cannot rewrite its own code.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/config/package.json libs/config/
COPY --from=build /app/libs/config/dist libs/config/dist
COPY --from=build /app/libs/envelope/package.json libs/envelope/
COPY --from=build /app/libs/envelope/dist libs/envelope/dist
COPY --from=build /app/libs/sealed-store/package.json libs/sealed-store/
COPY --from=build /app/libs/sealed-store/dist libs/sealed-store/dist
COPY --from=build /app/libs/bff/package.json libs/bff/
COPY --from=build /app/libs/bff/dist libs/bff/dist
COPY --from=build /app/libs/ops/package.json libs/ops/
COPY --from=build /app/libs/ops/dist libs/ops/dist
COPY --from=build /app/libs/oidc-adapter/package.json libs/oidc-adapter/
COPY --from=build /app/libs/oidc-adapter/dist libs/oidc-adapter/dist
COPY --from=build /app/libs/resource-server/package.json libs/resource-server/
COPY --from=build /app/libs/resource-server/dist libs/resource-server/dist
COPY --from=build /app/libs/token-budget/package.json libs/token-budget/
COPY --from=build /app/libs/token-budget/dist libs/token-budget/dist
COPY --from=build /app/apps/authorization-server/package.json apps/authorization-server/
COPY --from=build /app/apps/authorization-server/dist apps/authorization-server/dist
COPY --from=build /app/apps/gateway/package.json apps/gateway/
COPY --from=build /app/apps/gateway/dist apps/gateway/dist
COPY --from=build /app/apps/demo-api/package.json apps/demo-api/
COPY --from=build /app/apps/demo-api/dist apps/demo-api/dist
COPY --from=build /app/apps/cli/package.json apps/cli/
COPY --from=build /app/apps/cli/dist apps/cli/dist
# No config/demo in the image: its users, passwords and client secrets are public. Mount your own files
# (USERS_FILE, CLIENTS_FILE, RESOURCES_FILE, JWKS_FILE); docker-compose.yml mounts the demo for the demo.
# The image's node user, by number so that Kubernetes can verify runAsNonRoot. The manifests run as 1000:1000
# with fsGroup 1000: Secret volumes mounted with mode 0440 are readable through the group, and nobody else's.
USER 1000:1000
CMD ["node", "apps/gateway/dist/main.js"]
