// The policy a deployment runs with (src/policy/): the documented defaults, a POLICY_FILE that
// overrides any part of them, the older environment variables that win over the file, and every
// value checked at start — an unknown key, a wrong type or a limit below its floor stops the start
// with a message naming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { POLICY_DEFAULTS } from '../../src/policy/defaults.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('policy', () => {
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-policy-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function policyFile(content: unknown): Promise<string> {
    n += 1;
    const file = path.join(dir, `policy-${n}.json`);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  function problemsOf(env: Record<string, string>): string[] {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it('is the documented defaults when nothing is set', () => {
    expect(loadConfig({}).policy).toEqual(POLICY_DEFAULTS);
  });

  it('takes any part from POLICY_FILE, keeping the rest; the older variables win over the file', async () => {
    const file = await policyFile({ codes: { sends: { max: 3 } }, lockout: { threshold: 3, stepsSeconds: [30, 120] }, rememberDevice: { choices: ['none', '12h'] } });
    const policy = loadConfig({ POLICY_FILE: file, LOCKOUT_THRESHOLD: '4' }).policy;
    expect(policy.codes.sends).toEqual({ max: 3, windowSeconds: 3600 });
    expect(policy.codes.ttlSeconds).toBe(600);
    expect(policy.lockout).toEqual({ ...POLICY_DEFAULTS.lockout, threshold: 4, stepsSeconds: [30, 120] });
    expect(policy.rememberDevice.choices).toEqual(['none', '12h']);
    expect(loadConfig({ CODE_TTL_SECONDS: '300', PASSWORD_FAILURES_PER_IP: '50' }).policy).toMatchObject({ codes: { ttlSeconds: 300 }, passwords: { failuresPerIp: { max: 50, windowSeconds: 900 } } });
  });

  it('lets a temporary password work 72 hours unless the file says 1 hour to 14 days', async () => {
    expect(loadConfig({}).policy.passwords.temporaryTtlSeconds).toBe(72 * 3600);
    expect(loadConfig({ POLICY_FILE: await policyFile({ passwords: { temporaryTtlSeconds: 86400 } }) }).policy.passwords.temporaryTtlSeconds).toBe(86400);
    expect(problemsOf({ POLICY_FILE: await policyFile({ passwords: { temporaryTtlSeconds: 60 } }) })).toEqual([expect.stringContaining('passwords.temporaryTtlSeconds')]);
    expect(problemsOf({ POLICY_FILE: await policyFile({ passwords: { temporaryTtlSeconds: 15 * 24 * 3600 } }) })).toEqual([expect.stringContaining('passwords.temporaryTtlSeconds')]);
  });

  it('lets an invitation link work 72 hours unless the file says otherwise, at most 14 days', async () => {
    expect(loadConfig({}).policy.activation.linkTtlSeconds).toBe(72 * 3600);
    expect(loadConfig({ POLICY_FILE: await policyFile({ activation: { linkTtlSeconds: 86400 } }) }).policy.activation.linkTtlSeconds).toBe(86400);
    expect(problemsOf({ POLICY_FILE: await policyFile({ activation: { linkTtlSeconds: 15 * 24 * 3600 } }) })).toEqual([expect.stringContaining('activation.linkTtlSeconds')]);
  });

  it('refuses unknown keys, wrong types and unreadable files, naming the file and the key', async () => {
    const unknown = await policyFile({ lockout: { treshold: 3 } });
    expect(problemsOf({ POLICY_FILE: unknown })).toEqual([expect.stringMatching(new RegExp(`^POLICY_FILE ${unknown}: lockout: Unrecognized key: "treshold"`))]);
    const wrongType = await policyFile({ codes: { ttlSeconds: '600' } });
    expect(problemsOf({ POLICY_FILE: wrongType })).toEqual([expect.stringContaining('codes.ttlSeconds')]);
    expect(problemsOf({ POLICY_FILE: await policyFile('{ "codes": ') })).toEqual([expect.stringMatching(/^POLICY_FILE: .* cannot be read as JSON/)]);
    expect(problemsOf({ POLICY_FILE: path.join(dir, 'missing.json') })).toEqual([expect.stringMatching(/^POLICY_FILE: .*missing.json cannot be read/)]);
  });

  it('refuses what the rules forbid, whichever way it was set', async () => {
    const weak = await policyFile({ passwords: { minLength: 6 }, lockout: { maxFailures: 150 }, rememberDevice: { choices: ['none'], defaultChoice: '1w' } });
    expect(problemsOf({ POLICY_FILE: weak })).toEqual([
      'passwords.minLength (PASSWORD_MIN_LENGTH): at least 8 (NIST SP 800-63B-4)',
      'lockout.maxFailures (LOCKOUT_MAX_FAILURES): at most 100 (NIST SP 800-63B-4 §3.2.2)',
      'rememberDevice.defaultChoice: "1w" is not one of the offered choices (none)',
    ]);
    expect(problemsOf({ PASSWORD_MIN_LENGTH: '64', PASSWORD_MAX_LENGTH: '64' })).toEqual([]);
    expect(problemsOf({ POLICY_FILE: await policyFile({ passwords: { minLength: 100, maxLength: 64 } }) })).toEqual(['passwords.minLength (PASSWORD_MIN_LENGTH): larger than max']);
    expect(problemsOf({ LOCKOUT_STEPS_SECONDS: '60,90000' })).toEqual(['lockout.stepsSeconds (LOCKOUT_STEPS_SECONDS): each step must be 1 second to 24 hours']);
  });

  describe('in a running server', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ env: { POLICY_FILE: await policyFile({ codes: { resendCooldownSeconds: 5, sends: { max: 2 } }, rememberDevice: { choices: ['none', '12h', '3d'], maxSeconds: 3600 } }) } });
    });
    afterAll(() => server?.close());

    it('is what the code reads: code limits and the remembered-device choices and cap follow the file', async () => {
      const { codes, devices } = server.services;
      const account = await server.addUser({ username: 'beleid' });
      const send = () => codes.issue(account.id, 'login:sms', 'flow', async () => undefined);
      await send();
      expect(await codes.maySend(account.id, 'login:sms')).toEqual({ ok: false, reason: 'cooldown', retryInSeconds: 5 });
      expect(devices.choices()).toEqual(['none', '12h', '3d']);
      expect(devices.isChoice('1w')).toBe(false);
      expect(devices.durationFor(account)).toBe(3600_000);
    });
  });
});
