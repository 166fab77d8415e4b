// Audit events are kept by default (NEN 7513 practice, see README); AUDIT_RETENTION_DAYS sets a
// limit, applied by the periodic sweep.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { Audit } from '../../src/accounts/audit.ts';
import { FakeClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 24 * 3600_000;

describe('audit retention', () => {
  it('keeps everything by default and reads AUDIT_RETENTION_DAYS otherwise', () => {
    expect(loadConfig({}).auditRetentionDays).toBeNull();
    expect(loadConfig({ AUDIT_RETENTION_DAYS: 'keep' }).auditRetentionDays).toBeNull();
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '3650' }).auditRetentionDays).toBe(3650);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: '0' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });

  it('removes only events older than the retention period, and nothing when keeping', async () => {
    const store = openSqliteStore(path.join(dir, 'audit.sqlite'));
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    try {
      const kept = new Audit(store, clock);
      const limited = new Audit(store, clock, 30);
      clock.advance(-40 * DAY);
      await kept.record({ type: 'login.succeeded' });
      clock.advance(20 * DAY);
      await kept.record({ type: 'login.failed' });
      clock.advance(20 * DAY);

      expect(await kept.applyRetention()).toBe(0);
      expect(await store.audit.list()).toHaveLength(2);
      expect(await limited.applyRetention()).toBe(1);
      expect((await store.audit.list()).map((e) => e.type)).toEqual(['login.failed']);
    } finally {
      await store.close();
    }
  });
});
