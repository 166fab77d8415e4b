# Poortwachter as a container image. `docker compose up` (docker-compose.yml) runs two of these
# behind Caddy with MongoDB; on its own it runs on the embedded SQLite store in the /data volume.
#
#   docker build -t poortwachter .
#   docker run -p 127.0.0.1:3000:3000 -v poortwachter-data:/data --env-file poortwachter.env poortwachter
#
# node:24-slim has no curl: the health check uses Node's own fetch.
FROM node:24-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data

WORKDIR /app

# Production dependencies only, from the lock file. tsx is one of them: the TypeScript sources run
# as they are, without a build step that could drift from the code. Installed before the sources
# are copied, so a code change does not reinstall the dependencies.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# The code belongs to root and cannot be changed by the process that runs it.
COPY bin ./bin
COPY config ./config
COPY locales ./locales
COPY public ./public
COPY src ./src
COPY views ./views
COPY tsconfig.json ./
RUN ln -s /app/bin/poortwachter.js /usr/local/bin/poortwachter \
    && mkdir -p /data \
    && chown node:node /data

# The `node` user (uid 1000) of the official image: never root.
USER node

# The SQLite store (DATA_DIR) when DATABASE_URL does not name MongoDB.
VOLUME ["/data"]
EXPOSE 3000

# Poortwachter stops gracefully on SIGTERM (finishes requests in flight within
# SHUTDOWN_TIMEOUT_SECONDS): give `docker stop` more than that (`--time`, compose stop_grace_period).
STOPSIGNAL SIGTERM

# Liveness only (/healthz); load balancers ask /readyz, which also checks the store and the keys.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Node itself as PID 1 (not npm, not a shell), so SIGTERM reaches the server.
CMD ["node", "--import", "tsx", "src/main.ts"]
