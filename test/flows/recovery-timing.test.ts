// No account oracle in the time the recovery's answers take (review of issue 9, finding 3): after
// "Wie bent u?", a real account and an unknown name must answer "what is wrong" (choose) and "send
// me a link" (link) alike. Measured before the fix: link 31–37 ms for a real account against
// 16–18 ms for an unknown name (the mail rendered and handed to SMTP before the answer), choose 20
// against 15 ms (the account's factors read from the store only when there is an account).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent } from '../support/user-agent.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { identify, recoveryFromLogin, recoveryPolicyFile, solvedCaptcha } from '../support/recovery.ts';

let world: FactorWorld;
let portal: RelyingParty;
const ROUNDS = 20;

beforeAll(async () => {
  // Room for every round of one name and one address; the limits themselves are tested elsewhere.
  const roomy = { max: 1000 };
  world = await startFactorWorld({
    env: { POLICY_FILE: await recoveryPolicyFile({ perAccount: roomy, perLoginName: roomy, mailsPerAccount: roomy, mailsPerIp: roomy }) },
  });
  portal = await world.portal({ name: 'Flynth Werkplek', recoveryMethods: ['sms', 'email-link'] });
});

afterAll(async () => {
  await world?.close();
});

/** Up to the choose page for `login`, then the time of the choose post and of the link post. */
async function timeOnce(login: string): Promise<{ choose: number; link: number }> {
  const agent = new UserAgent();
  const { identify: page } = await recoveryFromLogin(portal, agent);
  const altcha = await solvedCaptcha(agent, world.server.url);
  const chosen = await identify(agent, page, world.server.url, login, altcha);
  expect(chosen.status).toBe(200);
  let started = performance.now();
  const verify = await agent.submit(chosen, '/step/recovery-choose/submit', { reason: 'reset' });
  const choose = performance.now() - started;
  expect(verify.status).toBe(200);
  started = performance.now();
  const linked = await agent.submit(verify, '/step/recovery-verify/link');
  const link = performance.now() - started;
  expect(linked.status).toBe(200);
  return { choose, link };
}

describe('no account oracle in timing', () => {
  it('reads none of the account\'s credentials before a channel is proved (their cause, measured exactly)', async () => {
    await userWithFactors(world.server, { username: 'leest.niets', phoneE164: '+31612345002' }, ['sms', 'email']);
    const credentials = world.server.services.store.credentials;
    const reads: string[] = [];
    const { listByAccount, findById } = credentials;
    credentials.listByAccount = (...args) => (reads.push('listByAccount'), listByAccount.apply(credentials, args));
    credentials.findById = (...args) => (reads.push('findById'), findById.apply(credentials, args));
    try {
      const agent = new UserAgent();
      const { identify: page } = await recoveryFromLogin(portal, agent);
      const chosen = await identify(agent, page, world.server.url, 'leest.niets');
      const verify = await agent.submit(chosen, '/step/recovery-choose/submit', { reason: 'reset' });
      await agent.submit(verify, '/step/recovery-verify/link');
      expect(reads).toEqual([]);
    } finally {
      credentials.listByAccount = listByAccount;
      credentials.findById = findById;
    }
  });

  it('choose and link take the same time for a real account (SMS, e-mail code, verified address) and an unknown name', async () => {
    // An account with the most to read: several factors, a verified phone and address.
    await userWithFactors(world.server, { username: 'tijd.echt', phoneE164: '+31612345001' }, ['sms', 'email']);
    await timeOnce('tijd.echt');
    await timeOnce('tijd.onbekend');
    const runs = { real: { choose: [] as number[], link: [] as number[] }, unknown: { choose: [] as number[], link: [] as number[] } };
    // Interleaved, so a burst of load from elsewhere on the machine hits both alike.
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [kind, login] of [['real', 'tijd.echt'], ['unknown', `tijd.onbekend.${round}`]] as const) {
        const { choose, link } = await timeOnce(login);
        runs[kind].choose.push(choose);
        runs[kind].link.push(link);
      }
    }
    // Load only adds time, so the fastest of each is its own cost. The old link gap (+9 to +15 ms on
    // a real account, double) fails this; the noise of a loaded CI machine running other test files
    // beside this one does not. The smaller choose gap (+2 to +5 ms, the factor reads) is held by
    // the exact read count in the test above rather than by the clock.
    const fastest = (xs: number[]) => Math.min(...xs);
    for (const step of ['choose', 'link'] as const) {
      const real = fastest(runs.real[step]);
      const unknown = fastest(runs.unknown[step]);
      const tolerance = 4 + 0.25 * Math.min(real, unknown);
      expect(Math.abs(real - unknown), `${step}: real ${real.toFixed(1)} ms, unknown ${unknown.toFixed(1)} ms`).toBeLessThan(tolerance);
    }
  });
});
