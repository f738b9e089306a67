# One image for every Cloakroom service; docker-compose.yml picks the service by its command.
#   docker build -t cloakroom .
#   docker run --rm cloakroom node apps/authorization-server/dist/main.js
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs libs
COPY apps apps
COPY tsconfig.base.json tsconfig.build.json ./
# Every native dependency ships prebuilt binaries: no install scripts needed.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs libs
COPY --from=build /app/apps apps
# No config/demo in the image: its users, passwords and client secrets are public. Mount your own files
# (USERS_FILE, CLIENTS_FILE, RESOURCES_FILE, JWKS_FILE); docker-compose.yml mounts the demo for the demo.
COPY scripts scripts
USER node
CMD ["node", "apps/gateway/dist/main.js"]
