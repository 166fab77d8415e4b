// Export and import for the MongoDB store (port.ts TransferStore). Pages are read in `_id` order
// with keyset pagination (`_id > last`), so no server cursor stays open between pages. An import
// uses no multi-document transaction: a transaction must finish within the server's
// transactionLifetimeLimitSeconds (60 s by default) and commits as one oplog entry set, which a
// large audit trail would outgrow. Instead each insert is an ordinary majority-acknowledged write,
// the keys inserted by this import of one type are kept in memory, and `abort` deletes them again.
// What does not hold: a process killed in the middle of a type leaves that type half imported
// (run the import again with --merge, which keeps what is there and adds the rest).
import type { Model } from 'mongoose';
import type { TransferImport, TransferRecords, TransferStore, TransferType } from '../port.ts';
import { addRecords, transferKey, type TransferTarget } from '../transfer.ts';
import type { Models, OidcDoc, SettingDoc } from './models.ts';
import { toRecord as accountRecord } from './accounts.ts';
import { toRecord as credentialRecord } from './credentials.ts';
import { toRecord as clientRecord } from './clients.ts';
import { toRecord as deviceRecord } from './devices.ts';
import { toRecord as lockoutRecord } from './lockouts.ts';
import { toRecord as sessionProofRecord } from './session-proofs.ts';
import { toRecord as flowRecord } from './flows.ts';
import { toRecord as codeRecord } from './codes.ts';
import { toRecord as throttleRecord } from './throttles.ts';
import { toRecord as profileRecord } from './password-profiles.ts';
import { toRecord as organisationRecord } from './organisations.ts';
import { toRecord as grantRecord } from './admin-grants.ts';
import { toRecord as accountPortalRecord } from './account-portals.ts';
import type { OrganisationMemberDoc } from './admin-models.ts';
import { toMs } from './common.ts';

/** Deletes of an aborted import go in chunks: `$in` lists stay well below the 16 MB command limit. */
const DELETE_CHUNK = 1000;

interface Collection {
  page(after: string | undefined, limit: number): Promise<unknown[]>;
  present(keys: string[]): Promise<Set<string>>;
  remove(keys: string[]): Promise<void>;
}

/** Paging, lookup and deletion by `_id`, the key of every type but audit. */
function byId<D extends { _id: string }>(model: Model<D>, toRecord: (doc: D) => unknown): Collection {
  return {
    async page(after, limit) {
      const docs = await model.find(after === undefined ? {} : { _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).lean<D[]>().exec();
      return docs.map(toRecord);
    },
    async present(keys) {
      const docs = await model.find({ _id: { $in: keys } }, { _id: 1 }).lean<Array<{ _id: string }>>().exec();
      return new Set(docs.map((d) => d._id));
    },
    async remove(keys) {
      await model.deleteMany({ _id: { $in: keys } }).exec();
    },
  };
}

function oidcRecord(doc: OidcDoc): TransferRecords['oidc'] {
  return { model: doc.model, id: doc._id.slice(doc.model.length + 1), payload: doc.payload, expiresAt: toMs(doc.expiresAt), consumedAt: toMs(doc.consumedAt) };
}

export function createTransferStore(models: Models, target: Omit<TransferTarget, 'insertThrottle'>): TransferStore {
  const collections: Record<Exclude<TransferType, 'audit'>, Collection> = {
    account: byId(models.accounts, accountRecord),
    credential: byId(models.credentials, credentialRecord),
    client: byId(models.clients, clientRecord),
    setting: byId(models.settings, (doc: SettingDoc) => ({ name: doc._id, value: doc.value })),
    'password-profile': byId(models.passwordProfiles, profileRecord),
    organisation: byId(models.organisations, organisationRecord),
    membership: byId(models.organisationMembers, (doc: OrganisationMemberDoc) => ({ organisationId: doc.organisationId, kind: doc.kind, memberId: doc.memberId })),
    'admin-grant': byId(models.adminGrants, grantRecord),
    'account-portal': byId(models.accountPortals, accountPortalRecord),
    device: byId(models.devices, deviceRecord),
    lockout: byId(models.lockouts, lockoutRecord),
    // The oidc key (`model:id`) is that collection's _id, as every other type's key is.
    oidc: byId(models.oidc, oidcRecord),
    'session-proof': byId(models.sessionProofs, sessionProofRecord),
    flow: byId(models.flows, flowRecord),
    code: byId(models.codes, codeRecord),
    throttle: byId(models.throttles, throttleRecord),
  };
  const writeTarget: TransferTarget = {
    ...target,
    async insertThrottle(t) {
      await models.throttles.create({ _id: t.key, count: t.count, windowStartedAt: new Date(t.windowStartedAt), windowEndsAt: new Date(t.windowEndsAt), lastHitAt: new Date(t.lastHitAt) });
    },
  };

  async function present(type: TransferType, keys: string[]): Promise<Set<string>> {
    if (type === 'audit') {
      const docs = await models.audit.find({ eventId: { $in: keys } }, { eventId: 1 }).lean<Array<{ eventId: string }>>().exec();
      return new Set(docs.map((d) => d.eventId));
    }
    return collections[type].present(keys);
  }

  async function remove(type: TransferType, keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_CHUNK) {
      const chunk = keys.slice(start, start + DELETE_CHUNK);
      if (type === 'audit') await models.audit.deleteMany({ eventId: { $in: chunk } }).exec();
      else await collections[type].remove(chunk);
    }
  }

  return {
    async page<K extends TransferType>(type: K, after: TransferRecords[K] | undefined, limit: number): Promise<TransferRecords[K][]> {
      if (type === 'audit') {
        const last = after as TransferRecords['audit'] | undefined;
        return target.audit.listOldestFirst({ after: last && { at: last.at, id: last.id }, limit }) as Promise<TransferRecords[K][]>;
      }
      const collection = collections[type as Exclude<TransferType, 'audit'>];
      return collection.page(after === undefined ? undefined : transferKey(type, after), limit) as Promise<TransferRecords[K][]>;
    },
    async begin<K extends TransferType>(type: K): Promise<TransferImport<K>> {
      const inserted: string[] = [];
      return {
        add: (records) => addRecords(writeTarget, type, records, (keys) => present(type, keys), (key) => inserted.push(key)),
        async commit() {
          // Every insert was acknowledged by a majority already (the connection's write concern).
          inserted.length = 0;
        },
        async abort() {
          await remove(type, inserted.splice(0));
        },
      };
    },
  };
}
