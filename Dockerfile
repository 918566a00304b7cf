# Custodian application image. Kafka and PostgreSQL come from docker-compose.yml.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts/build-browser.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# A data directory the node user owns: a volume mounted there (docker-compose.yml) starts owned by it.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# The flags of scripts/start.sh: the heap bounded (CUSTODIAN_HEAP_MB there; docs/PERFORMANCE.md#rss-load), no
# allocation-site pretenuring (docs/PERFORMANCE.md#attestation-10m).
CMD ["node", "--max-old-space-size=640", "--no-allocation-site-pretenuring", "--enable-source-maps", "dist/src/main.js"]
