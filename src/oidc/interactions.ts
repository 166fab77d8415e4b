// What flows may do with an oidc-provider interaction: read it, finish the login (only after
// every required step passed), grant consent, or abort. Flows never see oidc-provider itself.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { policyFromMetadata, type PortalPolicy } from './client-policy.ts';
import { requestedAcrValues } from './requested-acr.ts';
import { requestedMaxAge } from './requested-max-age.ts';
import type { Proof } from './assurance.ts';
import { renewGrant, type Lifetimes } from './lifetimes.ts';

export interface InteractionView {
  uid: string;
  prompt: 'login' | 'consent' | string;
  /** Why the prompt is asked, e.g. `no_session`, `acr_too_weak`, `max_age`. */
  reasons: string[];
  params: Record<string, unknown>;
  /** Account of the existing session, if any (step-up, consent). */
  sessionAccountId: string | undefined;
  /** The existing session's uid: the key of the record of its proofs (session-proofs.ts). */
  sessionUid: string | undefined;
  sessionAcr: string | undefined;
  requestedAcr: string[];
  /** The request's `max_age` in seconds, if any. */
  maxAgeSeconds: number | undefined;
  missingScopes: string[];
  missingClaims: string[];
  policy: PortalPolicy;
  returnTo: string;
}

export class InteractionNotFound extends Error {
  /** The portal the patient came from, when still known: the expired page links back to it. */
  portal: PortalPolicy | undefined;
  constructor() {
    super('interaction not found or expired');
    this.name = 'InteractionNotFound';
  }
}

export interface LoginResult {
  accountId: string;
  acr: string;
  amr: string[];
  /** Keep the session after the browser closes. */
  remember: boolean;
  /** How each proof was obtained: kept with the session (session-proofs.ts). */
  proofs: readonly Proof[];
  /** When the login's flow started (our clock): `max_age` is measured from it. */
  startedAt: number;
}

export class Interactions {
  constructor(
    private readonly provider: Provider,
    private readonly lifetimes: Lifetimes,
  ) {}

  /** The portal of a client id, for pages that outlive their interaction. */
  async portal(clientId: string): Promise<PortalPolicy | undefined> {
    const client = await this.provider.Client.find(clientId).catch(() => undefined);
    return client ? policyFromMetadata(client.metadata() as Record<string, unknown>) : undefined;
  }

  async details(ctx: Context): Promise<InteractionView> {
    let interaction;
    try {
      interaction = await this.provider.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw new InteractionNotFound();
      throw error;
    }
    if (ctx.params.uid && interaction.uid !== ctx.params.uid) throw new InteractionNotFound();
    const clientId = String(interaction.params.client_id);
    const client = await this.provider.Client.find(clientId);
    if (!client) throw new InteractionNotFound();
    const details = interaction.prompt.details as Record<string, unknown>;
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
    return {
      uid: interaction.uid,
      prompt: interaction.prompt.name,
      reasons: [...interaction.prompt.reasons],
      params: interaction.params as Record<string, unknown>,
      sessionAccountId: interaction.session?.accountId,
      sessionUid: interaction.session?.uid,
      sessionAcr: interaction.session?.acr,
      requestedAcr: requestedAcrValues(interaction.params as Record<string, unknown>),
      maxAgeSeconds: requestedMaxAge(interaction.params as Record<string, unknown>),
      missingScopes: list(details.missingOIDCScope),
      missingClaims: list(details.missingOIDCClaims),
      policy: policyFromMetadata(client.metadata() as Record<string, unknown>),
      returnTo: interaction.returnTo,
    };
  }

  /** Returns the URL to send the browser to. */
  finishLogin(ctx: Context, result: LoginResult): Promise<string> {
    return this.provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: result.accountId, acr: result.acr, amr: result.amr, remember: result.remember, proofs: result.proofs.map((p) => ({ ...p, amr: [...p.amr] })), startedAt: result.startedAt },
    }, { mergeWithLastSubmission: false });
  }

  async grantConsent(ctx: Context): Promise<string> {
    const interaction = await this.provider.interactionDetails(ctx.req, ctx.res);
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'consent' || !accountId) throw new InteractionNotFound();
    const details = interaction.prompt.details as Record<string, unknown>;
    const grant = interaction.grantId
      ? await this.provider.Grant.find(interaction.grantId)
      : new this.provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw new InteractionNotFound();
    if (Array.isArray(details.missingOIDCScope)) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (Array.isArray(details.missingOIDCClaims)) grant.addOIDCClaims(details.missingOIDCClaims.map(String));
    // Consenting to offline_access on an existing grant gives it the longer lifetime.
    renewGrant(grant, this.lifetimes);
    const grantId = await grant.save();
    return this.provider.interactionResult(ctx.req, ctx.res, { consent: interaction.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }

  abort(ctx: Context, description: string): Promise<string> {
    return this.provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });
  }

  fail(ctx: Context, error: string, description: string): Promise<string> {
    return this.provider.interactionResult(ctx.req, ctx.res, { error, error_description: description }, { mergeWithLastSubmission: false });
  }
}
