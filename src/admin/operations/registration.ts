// Initial access tokens for dynamic client registration (RFC 7591): operators mint them (CLI
// `dcr token`, API); a portal that registers itself with one gets no policy or brand fields —
// those come only from the admin operations (oidc/registration.ts refuses them).
import { confinement, type Actor } from './actor.ts';
import { requirePermission } from './access.ts';
import { recordAdminEvent, type AdminDeps } from './context.ts';
import { OperationError } from './errors.ts';
import { RegistrationTokenCreate } from './schemas.ts';
import { parseInput } from './validate.ts';

export class RegistrationOperations {
  constructor(private readonly deps: AdminDeps) {}

  async mintInitialAccessToken(actor: Actor, body: unknown = {}): Promise<{ token: string; expiresAt: number }> {
    requirePermission(actor, 'registration:mint');
    // An API client with admin:clients may mint too, but never a confined one: a self-registered
    // portal belongs to no organisation.
    if (confinement(actor) !== 'all') {
      throw new OperationError('forbidden', 'only operators (and unconfined API clients) mint registration tokens');
    }
    const input = parseInput(RegistrationTokenCreate, body);
    const tokens = this.deps.registrationTokens;
    if (!tokens) throw new OperationError('conflict', 'dynamic client registration is not available here');
    const minted = await tokens.mint(input.expires_in);
    await recordAdminEvent(this.deps, actor, { type: 'admin.registration.token_minted', outcome: 'minted', detail: { expires_at: new Date(minted.expiresAt).toISOString() } });
    return minted;
  }
}
