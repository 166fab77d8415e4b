// Poortwachter needs Node.js 22.12 or newer; on Node 20 its SQLite driver segfaults without a word.
// This check runs before anything else is loaded, in `npm start` (src/main.ts) and in the CLI
// launcher (bin/poortwachter.js). It is plain JavaScript that imports nothing, so the launcher can
// use it without tsx, and an old Node reaches it before any module it cannot run.

export const MINIMUM_NODE_VERSION = '22.12.0';

/** [major, minor, patch] of "v22.12.0" or "22.12.0". */
function parts(version) {
  return version.replace(/^v/, '').split('.').map((part) => Number.parseInt(part, 10) || 0);
}

/**
 * One line telling the operator what to do when `version` is too old; undefined when it is fine.
 * @param {string} version e.g. process.versions.node
 * @returns {string | undefined}
 */
export function unsupportedNodeMessage(version) {
  const have = parts(version);
  const need = parts(MINIMUM_NODE_VERSION);
  for (let i = 0; i < need.length; i += 1) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i]) {
      return `Poortwachter needs Node.js ${MINIMUM_NODE_VERSION} or newer, this is ${version.replace(/^v/, '')}: run \`source .ci/node24.sh\` in this shell (or install Node 24 LTS), then try again.`;
    }
  }
  return undefined;
}
