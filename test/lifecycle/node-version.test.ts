// An old Node (a new shell without `source .ci/node24.sh`) gets one line saying what to run, from
// the server entry and from the CLI launcher, instead of a segfault of the SQLite driver or a hang.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { unsupportedNodeMessage } from '../../src/node-version.js';
import { PROJECT_ROOT } from '../support/server-process.ts';

describe('the Node version check', () => {
  it('accepts 22.12 and newer, refuses older with what to run', () => {
    for (const fine of ['22.12.0', 'v22.12.1', '22.13.0', '23.0.0', '24.21.0', '25.1.0']) expect(unsupportedNodeMessage(fine)).toBeUndefined();
    for (const old of ['22.11.9', 'v22.0.0', '20.20.2', '18.19.0']) {
      const message = unsupportedNodeMessage(old)!;
      expect(message).toContain(old.replace(/^v/, ''));
      expect(message).toContain('source .ci/node24.sh');
      expect(message).not.toContain('\n');
    }
  });
});

/** A Node older than 22.12 on this machine (Debian's, typically), if there is one. */
function oldNode(): string | undefined {
  let candidates: string[];
  try {
    candidates = execFileSync('which', ['-a', 'node'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
  for (const candidate of new Set([...candidates, '/usr/bin/node'])) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      if (unsupportedNodeMessage(version)) return candidate;
    } catch {
      // not there or not runnable
    }
  }
  return undefined;
}

const old = oldNode();
if (!old) process.stderr.write('Old-Node entry tests skipped: no Node older than 22.12 on this machine (the check itself is unit-tested)\n');

function run(node: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!old)('on an old Node', { timeout: 60_000 }, () => {
  it('the server entry (src/main.ts) refuses with one line before loading the SQLite driver', async () => {
    const result = await run(old!, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/main.ts')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/needs Node\.js 22\.12\.0 or newer, this is 2?\d\..*source \.ci\/node24\.sh/);
  });

  it('the CLI launcher refuses with one line instead of hanging', async () => {
    const result = await run(old!, [path.join(PROJECT_ROOT, 'bin/poortwachter.js'), 'client', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('source .ci/node24.sh');
  });
});
