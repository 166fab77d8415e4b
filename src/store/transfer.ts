// What both stores share for export and import (port.ts TransferStore): the key of each kind of
// record, and how a record is stored through the sub-stores' own methods, so an imported record
// is written exactly as the running code writes it.
import type { Store, ThrottleRecord, TransferRecords, TransferType } from './port.ts';

/**
 * Every type, in the order an import needs them: accounts before what belongs to an account
 * (SQLite's foreign keys), and the records that belong to live logins last.
 */
export const TRANSFER_TYPES = [
  'setting', 'password-profile', 'client', 'organisation', 'account', 'membership', 'admin-grant', 'account-portal',
  'credential', 'device', 'lockout', 'audit', 'oidc', 'session-proof', 'flow', 'code', 'throttle',
] as const satisfies readonly TransferType[];

/** Live logins: sessions, grants, tokens, flows in progress, codes sent, counters. Exported only when asked. */
export const LIVE_TYPES: ReadonlySet<TransferType> = new Set(['oidc', 'session-proof', 'flow', 'code', 'throttle']);

/** The key that identifies a record of `type` in its store (what an import keeps when it exists). */
export function transferKey<K extends TransferType>(type: K, record: TransferRecords[K]): string {
  const r = record as TransferRecords[TransferType];
  switch (type) {
    case 'client': return (r as TransferRecords['client']).clientId;
    case 'setting': return (r as TransferRecords['setting']).name;
    case 'lockout': return (r as TransferRecords['lockout']).key;
    case 'throttle': return (r as TransferRecords['throttle']).key;
    case 'session-proof': return (r as TransferRecords['session-proof']).sessionUid;
    case 'password-profile': return (r as TransferRecords['password-profile']).name;
    case 'admin-grant': return (r as TransferRecords['admin-grant']).accountId;
    // The composite keys are the MongoDB _id of these documents, and SQLite pages by the same text.
    case 'account-portal': {
      const a = r as TransferRecords['account-portal'];
      return `${a.accountId}:${a.clientId}`;
    }
    case 'membership': {
      const m = r as TransferRecords['membership'];
      return `${m.kind}:${m.memberId}:${m.organisationId}`;
    }
    case 'oidc': {
      const o = r as TransferRecords['oidc'];
      return `${o.model}:${o.id}`;
    }
    default: return (r as { id: string }).id;
  }
}

/** Before every time: "live" for every record, expired or not, when a method takes `now`. */
export const BEFORE_ALL = Number.MIN_SAFE_INTEGER;

/** The sub-stores an import writes through, plus the one record kind no port method inserts. */
export type TransferTarget = Pick<Store,
  | 'accounts' | 'credentials' | 'clients' | 'settings' | 'devices' | 'lockouts' | 'audit' | 'oidc' | 'sessionProofs' | 'flows' | 'codes'
  | 'passwordProfiles' | 'organisations' | 'adminGrants' | 'accountPortals'> & {
  insertThrottle(record: ThrottleRecord): Promise<void>;
};

/** Stores one record whose key is known to be free. */
export async function insertRecord<K extends TransferType>(target: TransferTarget, type: K, record: TransferRecords[K]): Promise<void> {
  const r = record as TransferRecords[TransferType];
  switch (type) {
    case 'account': return target.accounts.create(r as TransferRecords['account']);
    case 'credential': return target.credentials.put(r as TransferRecords['credential']);
    case 'client': {
      await target.clients.putIfAbsent(r as TransferRecords['client']);
      return;
    }
    case 'setting': {
      const s = r as TransferRecords['setting'];
      await target.settings.putIfAbsent(s.name, s.value);
      return;
    }
    case 'password-profile': return target.passwordProfiles.put(r as TransferRecords['password-profile']);
    case 'organisation': return target.organisations.create(r as TransferRecords['organisation']);
    case 'membership': {
      // setMemberships replaces: the memberships imported before this one are kept beside it.
      const m = r as TransferRecords['membership'];
      const current = await target.organisations.memberships(m.kind, m.memberId);
      return target.organisations.setMemberships(m.kind, m.memberId, [...current, m.organisationId]);
    }
    case 'admin-grant': return target.adminGrants.put(r as TransferRecords['admin-grant']);
    case 'account-portal': {
      // record() starts a pair at its first time and only moves the last one forward.
      const a = r as TransferRecords['account-portal'];
      await target.accountPortals.record(a.accountId, a.clientId, a.firstLoginAt);
      return target.accountPortals.record(a.accountId, a.clientId, a.lastLoginAt);
    }
    case 'device': return target.devices.put(r as TransferRecords['device']);
    case 'lockout': {
      const l = r as TransferRecords['lockout'];
      await target.lockouts.update(l.key, BEFORE_ALL, (current) => ({ next: current ?? l, result: undefined }));
      return;
    }
    case 'audit': return target.audit.append(r as TransferRecords['audit']);
    case 'oidc': {
      const o = r as TransferRecords['oidc'];
      await target.oidc.upsert(o.model, o.id, o.payload, o.expiresAt);
      // consume() stamps the time it is given: the record keeps its own consumption time.
      if (o.consumedAt !== null) await target.oidc.consume(o.model, o.id, o.consumedAt);
      return;
    }
    case 'session-proof': return target.sessionProofs.put(r as TransferRecords['session-proof']);
    case 'flow': return target.flows.put(r as TransferRecords['flow']);
    // replace() voids the account's other codes of that purpose sent no later: only the newest
    // of a purpose is ever active, so nothing that could still be used is lost.
    case 'code': return target.codes.replace(r as TransferRecords['code']);
    case 'throttle': return target.insertThrottle(r as TransferRecords['throttle']);
  }
}

/**
 * Adds records of one type: those whose key `present` reports are kept (their keys returned),
 * the others inserted; `inserted` hears of each key stored (MongoDB's abort deletes them).
 */
export async function addRecords<K extends TransferType>(
  target: TransferTarget,
  type: K,
  records: readonly TransferRecords[K][],
  present: (keys: string[]) => Promise<Set<string>>,
  inserted?: (key: string) => void,
): Promise<{ kept: string[] }> {
  const keys = records.map((record) => transferKey(type, record));
  const existing = await present(keys);
  const kept: string[] = [];
  const seen = new Set<string>();
  for (const [index, record] of records.entries()) {
    const key = keys[index]!;
    if (existing.has(key) || seen.has(key)) {
      kept.push(key);
      continue;
    }
    seen.add(key);
    await insertRecord(target, type, record);
    inserted?.(key);
  }
  return { kept };
}
