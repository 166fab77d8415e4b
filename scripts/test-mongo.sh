#!/usr/bin/env bash
# `npm run test:mongo`: the MongoDB contract suite against a real replica set, in one command
# where Docker runs. Starts the `mongo` service of docker-compose.yml (a single-node replica set
# whose health check initiates it), waits until it is the writable primary, runs
# test/store/mongo.test.ts with MONGODB_URL, and stops the service again (unless it was already
# running, e.g. under `docker compose up`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker compose version >/dev/null 2>&1; then
  echo "test:mongo needs Docker with the compose plugin (docker compose)." >&2
  exit 2
fi

already_running=$(docker compose ps --status running --services 2>/dev/null | grep -cx mongo || true)
if [ "$already_running" = "0" ]; then
  trap 'docker compose stop mongo >/dev/null && docker compose rm -f mongo >/dev/null' EXIT
fi

# --wait returns once the health check passes: rs.initiate done and this node is primary.
docker compose up -d --wait --wait-timeout 120 mongo

# directConnection: the replica set names its member mongo:27017 (as the IdP containers reach it),
# a name this machine does not resolve; connecting to the one member directly needs no discovery.
export MONGODB_URL="mongodb://127.0.0.1:27017/poortwachter?directConnection=true"
npx vitest run test/store/mongo.test.ts test/factors/passkey-store.test.ts
