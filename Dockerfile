# ReTrack image: build with the dev toolchain, run with production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# the Prisma 6 migration-authoring tool is not needed in an image
ENV RETRACK_SKIP_TOOLS=1
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && mkdir -p dist/devices && cp -r devices/routes dist/devices/routes && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 MQTT_HOST=0.0.0.0 DATA_DIR=/var/lib/retrack
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/console ./console
# /var/lib/retrack: DATA_DIR. /var/lib/retrack-sim: the compose simulator's devices file (a volume;
# a new named volume takes the ownership of the image's folder, so the node user can write there).
# /app itself stays root-owned: the running process cannot change its own code.
RUN mkdir -p /var/lib/retrack /var/lib/retrack-sim && chown node /var/lib/retrack /var/lib/retrack-sim
USER node
# 8080: API, console, MQTT over WebSocket at /mqtt; 1884: MQTT; 8884: MQTT over TLS when configured
EXPOSE 8080 1884 8884
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# the command-line tool is compiled too (the image has no tsx, no src/):
#   docker compose exec retrack node dist/src/cli/retrack.js --help   (or: npm run retrack:dist -- --help)
# a larger young generation: ingestion allocates many short-lived objects (see docs/performance.md)
CMD ["node", "--enable-source-maps", "--max-semi-space-size=64", "dist/src/main.js"]
