// `poortwachter keys ...`: the ID token signing keys (see src/oidc/keys.ts for the three stages).
import { loadSigningKeys, rotateSigningKeys, type KeyStage, type SigningKey } from '../../oidc/keys.ts';
import type { Command } from './command.ts';
import type { CliContext } from './context.ts';
import { formatTime } from './output.ts';
import { ID_TOKEN_TTL_SECONDS } from '../../oidc/provider.ts';

// A retired key must stay in the JWKS while tokens it signed can still be presented: the
// longest-lived signed token plus an hour for relying parties' JWKS caches and clock skew.
const GRACE_SECONDS = 3600;

const STAGES: readonly KeyStage[] = ['current', 'next', 'retired'];
const STAGE_ROLE: Record<KeyStage, string> = {
  current: 'signs new tokens',
  next: 'published, signs after the next rotation',
  retired: 'published until its tokens have expired',
};

const kid = (key: SigningKey) => String(key.jwk.kid);
const alg = (key: SigningKey) => String(key.jwk.alg);

function keysJson(keys: SigningKey[]) {
  return Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      keys
        .filter((k) => k.stage === stage)
        .map((k) => ({ kid: kid(k), alg: alg(k), created_at: new Date(k.createdAt).toISOString(), ...(k.removeAfter ? { remove_after: new Date(k.removeAfter).toISOString() } : {}) })),
    ]),
  );
}

function keysLines(keys: SigningKey[]): string[] {
  return STAGES.flatMap((stage) => {
    const ofStage = keys.filter((k) => k.stage === stage);
    if (!ofStage.length) return [];
    return [
      `  ${stage.padEnd(8)} ${STAGE_ROLE[stage]}`,
      ...ofStage.map((k) => `           ${kid(k)}  ${alg(k).padEnd(5)}${k.removeAfter ? `  removed after ${formatTime(k.removeAfter)}` : ''}`),
    ];
  });
}

async function now(ctx: CliContext): Promise<number> {
  return (await ctx.services()).clock.now();
}

const rotate: Command = {
  group: 'keys',
  name: 'rotate',
  summary: 'Rotates the signing keys: next becomes current, current is retired.',
  options: {},
  details: [
    'A new next key is generated. Relying parties already know the new current key: it has been',
    'published as `next` since the last rotation. Running servers read the stored keys every',
    'KEYS_REFRESH_SECONDS (default 30) and sign with the new current key from then on: no restart.',
  ],
  async run(ctx) {
    const services = await ctx.services();
    const keepSeconds = Math.max(ID_TOKEN_TTL_SECONDS, services.config.ttl.accessToken) + GRACE_SECONDS;
    const before = (await loadSigningKeys(services.store, services.box, await now(ctx))).filter((k) => k.stage === 'current').map(kid);
    const refreshSeconds = services.config.keysRefreshSeconds;
    const keys = await rotateSigningKeys(services.store, services.box, await now(ctx), keepSeconds * 1000);
    await ctx.audit({ type: 'admin.keys.rotated', detail: { retired: before, current: keys.filter((k) => k.stage === 'current').map(kid) } });
    ctx.out.result(
      ['Signing keys rotated.', ...keysLines(keys), '', `Running servers sign with the new current key within ${refreshSeconds} s (KEYS_REFRESH_SECONDS); no restart needed.`],
      { ...keysJson(keys), keep_retired_seconds: keepSeconds, restart_required: false, picked_up_within_seconds: refreshSeconds },
    );
  },
};

const list: Command = {
  group: 'keys',
  name: 'list',
  summary: 'Shows the signing key ids per stage (never key material).',
  options: {},
  async run(ctx) {
    const services = await ctx.services();
    const keys = await loadSigningKeys(services.store, services.box, await now(ctx));
    ctx.out.result(['Signing keys:', ...keysLines(keys)], keysJson(keys));
  },
};

export const keyCommands: Command[] = [rotate, list];
