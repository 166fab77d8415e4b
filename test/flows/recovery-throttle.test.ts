// What comes before any proof of work in a recovery is throttled per client (review of issue 9,
// finding 8): starting one (`GET /recovery` writes a flow row) and fetching a CAPTCHA challenge
// (`GET /recovery/captcha` runs PBKDF2). Past the limit: 429 with Retry-After, a page or JSON in
// the patient's language; the window passes on the fake clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';
import { recoveryPolicyFile } from '../support/recovery.ts';

let world: FactorWorld;
const TEN_MINUTES = 10 * 60_000;

beforeAll(async () => {
  world = await startFactorWorld({
    env: { POLICY_FILE: await recoveryPolicyFile({ startsPerIp: { max: 2, windowSeconds: 600 }, challengesPerIp: { max: 2, windowSeconds: 600 } }) },
  });
});

afterAll(async () => {
  await world?.close();
});

describe('recovery throttles before the proof of work', () => {
  it('starting a recovery: 429 page with Retry-After past the limit, in Dutch and English, open again after the window', async () => {
    const agent = new UserAgent();
    for (let i = 0; i < 2; i += 1) expect((await agent.open(`${world.server.url}/recovery`)).status).toBe(200);
    const refused = await agent.request(`${world.server.url}/recovery`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers?.get('retry-after'))).toBeLessThanOrEqual(600);
    expect(textOf(refused)).toContain('te veel herstelpogingen gestart');
    const refusedEn = await new UserAgent().request(`${world.server.url}/recovery?lang=en`);
    expect(refusedEn.status).toBe(429);
    expect(textOf(refusedEn)).toContain('Too many recoveries were started');
    world.clock.advance(TEN_MINUTES);
    expect((await agent.open(`${world.server.url}/recovery`)).status).toBe(200);
  });

  it('CAPTCHA challenges: 429 JSON with Retry-After past the limit, its message in the page language', async () => {
    const agent = new UserAgent();
    for (let i = 0; i < 2; i += 1) expect((await agent.request(`${world.server.url}/recovery/captcha`)).status).toBe(200);
    const refused = await agent.request(`${world.server.url}/recovery/captcha`);
    expect(refused.status).toBe(429);
    expect(refused.headers?.get('content-type')).toContain('application/json');
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect((JSON.parse(refused.html) as { message: string }).message).toContain('te veel herstelpogingen gestart');
    const refusedEn = await new UserAgent().request(`${world.server.url}/recovery/captcha?lang=en`);
    expect((JSON.parse(refusedEn.html) as { message: string }).message).toContain('Too many recoveries were started');
    world.clock.advance(TEN_MINUTES);
    expect((await agent.request(`${world.server.url}/recovery/captcha`)).status).toBe(200);
  });
});
