// Several processes started at once on an empty DATA_DIR (a deployment's first start with more than
// one instance) must end up with one key set: each process signs with the keys it loaded, so a
// second set would make its tokens unverifiable for portals that fetched the other JWKS.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/server-process.ts';

const PROCESSES = 3;
const ROUNDS = 2;

async function jwks(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/jwks`)).json()) as { keys: { kid: string }[] };
  return body.keys.map((k) => k.kid).sort();
}

describe('simultaneous first start', () => {
  for (let round = 1; round <= ROUNDS; round += 1) {
    it(`${PROCESSES} processes on one empty data directory serve one JWKS (round ${round})`, async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-first-start-'));
      const servers = await Promise.all(Array.from({ length: PROCESSES }, () => startServerProcess({ env: { DATA_DIR: dataDir } })));
      try {
        const sets = await Promise.all(servers.map((s) => jwks(s.url)));
        expect(sets[0]).toHaveLength(4);
        for (const set of sets) expect(set).toEqual(sets[0]);
        // The development demo is seeded (and its secret printed) by one process only.
        expect(servers.filter((s) => s.output().includes('Demo data created'))).toHaveLength(1);
        // What a restarted process loads is what they all served.
        await Promise.all(servers.map((s) => s.stop()));
        const restarted = await startServerProcess({ env: { DATA_DIR: dataDir } });
        servers.push(restarted);
        expect(await jwks(restarted.url)).toEqual(sets[0]);
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 180_000);
  }
});
