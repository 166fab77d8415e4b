// Helpers for the recovery flow (flows/recovery/) through the real server: a cheap CAPTCHA policy,
// the CAPTCHA solved in Node with altcha-lib (the same proof of work the widget does), and the
// Flynth steps as a patient without a browser takes them.
import { writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { UserAgent, Page } from './user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from './relying-party.ts';

/**
 * A policy file with a CAPTCHA that is quick to solve in tests (the work is still real), and room
 * for every test of a file under one client address (127.0.0.1).
 */
export async function recoveryPolicyFile(extra: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-policy-'));
  const file = path.join(dir, 'policy.json');
  await writeFile(file, JSON.stringify({ recovery: { captcha: { cost: 10, counterMin: 20, counterMax: 60 }, identifyPerIp: { max: 1000 }, mailsPerIp: { max: 1000 }, startsPerIp: { max: 1000 }, challengesPerIp: { max: 1000 }, ...extra } }));
  return file;
}

/** Fetches a challenge from the server and solves it: the widget's hidden field value. */
export async function solvedCaptcha(agent: UserAgent, serverUrl: string): Promise<string> {
  const response = await agent.request(`${serverUrl}/recovery/captcha`);
  const challenge = JSON.parse(response.html) as Challenge;
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('captcha not solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

/** The portal's login page, and the recovery's first page reached from its link. */
export async function recoveryFromLogin(rp: RelyingParty, agent: UserAgent): Promise<{ login: Page; identify: Page; request: Awaited<ReturnType<RelyingParty['authorize']>> }> {
  const request = await rp.authorize();
  const login = await agent.open(request.url, REDIRECT_URI);
  const href = /href="(\/recovery\?interaction=[^"]+)"/.exec(login.html)?.[1];
  if (!href) throw new Error(`no recovery link on the login page: ${login.html.slice(0, 2000)}`);
  const identify = await agent.open(new URL(href.replace(/&amp;/g, '&'), login.url).href);
  return { login, identify, request };
}

export async function identify(agent: UserAgent, page: Page, serverUrl: string, login: string, captcha: 'solve' | 'none' | string = 'solve'): Promise<Page> {
  const altcha = captcha === 'solve' ? await solvedCaptcha(agent, serverUrl) : captcha === 'none' ? undefined : captcha;
  return agent.submit(page, '/step/recovery-identify/submit', { login, ...(altcha ? { altcha } : {}) });
}

export function choose(agent: UserAgent, page: Page, reason: 'reset' | 'unlock'): Promise<Page> {
  return agent.submit(page, '/step/recovery-choose/submit', { reason });
}

export function typeNumber(agent: UserAgent, page: Page, phone: string, method: 'sms' | 'voice'): Promise<Page> {
  return agent.submit(page, '/step/recovery-verify/phone', { phone, method });
}

export function newPassword(agent: UserAgent, page: Page, password: string, confirm = password): Promise<Page> {
  return agent.submit(page, '/step/recovery-new-password/submit', { new: password, confirm });
}

/** The "back to the login" link of the done page. */
export function backLink(page: Page): string | undefined {
  const href = /<a class="button" href="([^"]+)"/.exec(page.html)?.[1];
  return href ? new URL(href.replace(/&amp;/g, '&'), page.url).href : undefined;
}

/** The link in the recovery mail. */
export function linkFromMail(text: string): string {
  const link = /https?:\/\/\S+\/recovery\/[A-Za-z0-9_-]+\/link\/[A-Za-z0-9_-]+/.exec(text)?.[0];
  if (!link) throw new Error(`no recovery link in: ${text}`);
  return link;
}
