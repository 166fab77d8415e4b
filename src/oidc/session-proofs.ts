// How each proof behind an oidc-provider session was obtained: factor, amr, strength, fresh or
// replayed from a remembered device, and when. oidc-provider's Session keeps only `acr`/`amr`,
// which cannot tell a replayed device from a typed code, and it cannot carry extra fields; so we
// keep a small record of our own, keyed by the session's `uid` (stable across oidc-provider's
// `resetIdentifier`) and expiring with the session.
//
// The proofs travel inside the interaction result (`login.proofs`; oidc-provider stores the whole
// result). On the resume route (`GET /auth/:uid`), oidc-provider applies the login to the session
// (`resume.js`: `session.loginAccount`, then `ctx.oidc.result = result`) and, within the same
// request, runs the prompt checks again and saves the session; the middleware below then writes
// the record from `ctx.oidc.session.uid` and `ctx.oidc.result`, before the response leaves. The
// checks in that very request read the proofs from the result (the record is not written yet).
import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { provenanceFields, type ProofProvenance, type Store } from '../store/port.ts';
import type { Acr, Proof } from './assurance.ts';
import type { PortalPolicy } from './client-policy.ts';

/**
 * The login that made a session's proofs, on our clock: `startedAt` is when its flow started (right
 * after the authorization request), `completedAt` when the session received it. `max_age` is
 * measured from it (flows/proof-rules.ts), so a slow but complete login is not too old on arrival.
 */
export interface LoginSpan {
  startedAt: number;
  completedAt: number;
}

/** A session's proofs and the login that made them (undefined for records written before it was kept). */
export interface SessionRecord {
  proofs: Proof[];
  login: LoginSpan | undefined;
}

/** What the login-prompt checks ask of the proofs behind a session (implemented by the flows). */
export interface SessionJudgeInput {
  accountId: string;
  /** The session's proofs; empty when unknown (a session made before proofs were recorded). */
  proofs: readonly Proof[];
  policy: PortalPolicy;
  /** The level the request and the portal's `min_acr` demand together. */
  requiredAcr: Acr | undefined;
  /** The level the request alone demands (`acr_values`, `claims`): met only by fresh proofs. */
  requestedAcr: Acr | undefined;
  maxAgeSeconds: number | undefined;
  /** The login behind the proofs; undefined when unknown (then every proof is judged by its own age). */
  login: LoginSpan | undefined;
}

/** Returns the names of the checks that fail (`mfa_required`, `acr_too_weak`, `proofs_too_old`). */
export type SessionJudge = (input: SessionJudgeInput) => Promise<readonly string[]>;

function toProvenance(proof: Proof): ProofProvenance {
  return provenanceFields({ factor: proof.factor, amr: [...proof.amr], strength: proof.strength, at: proof.at, replayed: proof.replayed === true, multiFactor: proof.multiFactor, phishingResistant: proof.phishingResistant, credential: proof.credential });
}

function toProof(stored: ProofProvenance): Proof {
  return {
    factor: stored.factor, amr: [...stored.amr], strength: stored.strength === 2 ? 2 : 1, at: stored.at, replayed: stored.replayed,
    ...(stored.multiFactor === true ? { multiFactor: true } : {}),
    // A replayed proof is never phishing-resistant (a remembered device is a cookie).
    ...(stored.phishingResistant === true && !stored.replayed ? { phishingResistant: true } : {}),
    ...(stored.credential !== undefined ? { credential: stored.credential } : {}),
  };
}

function isProof(value: unknown): value is Proof {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.factor === 'string' && Array.isArray(p.amr) && p.amr.every((a) => typeof a === 'string')
    && (p.strength === 1 || p.strength === 2) && typeof p.at === 'number';
}

/** The proofs a login result carries (set by `Interactions.finishLogin`), if it is a login result. */
export function proofsOfResult(result: unknown): Proof[] | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const login = (result as { login?: { proofs?: unknown } }).login;
  const proofs = login?.proofs;
  return Array.isArray(proofs) && proofs.every(isProof) ? proofs : undefined;
}

/** When the flow of a login result started (set by `Interactions.finishLogin`), if known. */
export function loginStartOfResult(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const startedAt = (result as { login?: { startedAt?: unknown } }).login?.startedAt;
  return typeof startedAt === 'number' && Number.isFinite(startedAt) ? startedAt : undefined;
}

export class SessionProofs {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** oidc-provider's session lifetime; it slides with use, so a record in use is extended too. */
    private readonly ttlSeconds: number,
  ) {}

  /** Records the proofs of a login the session just received; `startedAt`: when its flow started. */
  async record(sessionUid: string, accountId: string, proofs: readonly Proof[], startedAt: number | undefined): Promise<void> {
    const now = this.clock.now();
    const login = startedAt === undefined ? null : { startedAt, completedAt: now };
    await this.store.sessionProofs.put({ sessionUid, accountId, proofs: proofs.map(toProvenance), login, expiresAt: now + this.ttlSeconds * 1000 });
  }

  /** The proofs behind the session, or undefined when none are known for this account. */
  async find(sessionUid: string, accountId: string): Promise<Proof[] | undefined> {
    return (await this.findRecord(sessionUid, accountId))?.proofs;
  }

  /** The proofs behind the session and the login that made them, or undefined when none are known for this account. */
  async findRecord(sessionUid: string, accountId: string): Promise<SessionRecord | undefined> {
    const now = this.clock.now();
    const record = await this.store.sessionProofs.find(sessionUid, now);
    if (!record || record.accountId !== accountId) return undefined;
    // Sessions slide with every use; a record read past half its life is extended with it.
    const ttlMs = this.ttlSeconds * 1000;
    if (record.expiresAt - now < ttlMs / 2) await this.store.sessionProofs.put({ ...record, expiresAt: now + ttlMs });
    return { proofs: record.proofs.map(toProof), login: record.login ?? undefined };
  }
}

/** Writes the record after oidc-provider applied a login result on its resume route. */
export function recordProofsOnResume(sessionProofs: SessionProofs): Middleware {
  const resume = /^\/auth\/[^/]+$/;
  return async (ctx, next) => {
    await next();
    if (ctx.method !== 'GET' || !resume.test(ctx.path) || !('oidc' in ctx)) return;
    const { session, result } = (ctx as unknown as KoaContextWithOIDC).oidc;
    const proofs = proofsOfResult(result);
    // A login for another account than the session's is not applied (oidc-provider asks to log out first).
    if (!proofs || !session?.accountId || session.accountId !== result?.login?.accountId || !session.uid) return;
    await sessionProofs.record(session.uid, session.accountId, proofs, loginStartOfResult(result));
  };
}
