import type { AccountRecord, AccountStore } from '../port.ts';
import { toJsonObject } from '../json.ts';
import { asDuplicateError, CASE_INSENSITIVE } from './common.ts';
import type { AccountDoc, Models } from './models.ts';

const DUPLICATE_FIELDS = { _id: 'id', username: 'username', email: 'email' } as const;

function toDoc(a: AccountRecord): AccountDoc {
  return {
    _id: a.id,
    username: a.username,
    email: a.email,
    emailVerified: a.emailVerified,
    phoneEncrypted: a.phoneEncrypted,
    phoneHint: a.phoneHint,
    phoneVerified: a.phoneVerified,
    givenName: a.givenName,
    familyName: a.familyName,
    locale: a.locale,
    status: a.status,
    settings: toJsonObject(a.settings),
    requiredActions: [...a.requiredActions],
    createdAt: new Date(a.createdAt),
    updatedAt: new Date(a.updatedAt),
  };
}

export function toRecord(doc: AccountDoc): AccountRecord {
  return {
    id: doc._id,
    username: doc.username,
    email: doc.email,
    emailVerified: doc.emailVerified,
    phoneEncrypted: doc.phoneEncrypted,
    phoneHint: doc.phoneHint,
    phoneVerified: doc.phoneVerified,
    givenName: doc.givenName,
    familyName: doc.familyName,
    locale: doc.locale,
    status: doc.status,
    settings: doc.settings,
    requiredActions: Array.isArray(doc.requiredActions) ? doc.requiredActions.filter((a): a is string => typeof a === 'string') : [],
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createAccountStore({ accounts, credentials, codes, devices, accountPortals, organisationMembers, adminGrants }: Models): AccountStore {
  // Lookups by login must name the collation of the unique indexes, or they neither use those
  // indexes nor match case-insensitively. `$gt: ''` repeats the e-mail index's partial filter, so
  // the planner can see that index covers the query.
  async function findOneBy(field: 'username' | 'email', login: string): Promise<AccountDoc | null> {
    const condition = field === 'email' ? { $eq: login, $gt: '' } : { $eq: login };
    return accounts.findOne({ [field]: condition }).collation(CASE_INSENSITIVE).lean<AccountDoc>().exec();
  }

  return {
    async create(account) {
      try {
        await accounts.create(toDoc(account));
      } catch (error) {
        throw asDuplicateError(error, DUPLICATE_FIELDS);
      }
    },
    async update(account) {
      try {
        await accounts.replaceOne({ _id: account.id }, toDoc(account)).exec();
      } catch (error) {
        throw asDuplicateError(error, DUPLICATE_FIELDS);
      }
    },
    async findById(id) {
      const doc = await accounts.findOne({ _id: { $eq: id } }).lean<AccountDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async findByLogin(login) {
      if (login === '') return undefined;
      // A username match wins over another account's e-mail address that happens to equal it.
      const doc = (await findOneBy('username', login)) ?? (await findOneBy('email', login));
      return doc ? toRecord(doc) : undefined;
    },
    async list(options = {}) {
      const limit = options.limit === undefined ? undefined : Math.max(0, Math.floor(options.limit));
      // MongoDB reads limit(0) as "no limit".
      if (limit === 0) return [];
      const query = accounts.find().sort({ createdAt: 1, _id: 1 }).skip(Math.max(0, Math.floor(options.offset ?? 0)));
      if (limit !== undefined) query.limit(limit);
      return (await query.lean<AccountDoc[]>().exec()).map(toRecord);
    },
    async search(filter) {
      const limit = Math.max(0, Math.floor(filter.limit));
      if (limit === 0) return [];
      const conditions: Record<string, unknown>[] = [];
      if (filter.text) {
        const pattern = { $regex: escapeRegex(filter.text.normalize('NFC')), $options: 'i' };
        conditions.push({ $or: [{ username: pattern }, { email: pattern }, { givenName: pattern }, { familyName: pattern }] });
      }
      if (filter.organisations) {
        const ids = filter.organisations.length
          ? await organisationMembers.distinct('memberId', { kind: 'account', organisationId: { $in: [...filter.organisations] } }).exec()
          : [];
        conditions.push({ _id: { $in: ids.map(String) } });
      }
      if (filter.after) {
        conditions.push({ $or: [{ username: { $gt: filter.after.username } }, { username: { $eq: filter.after.username }, _id: { $gt: filter.after.id } }] });
      }
      // Ordered and compared under the unique index's collation, as SQLite orders by the folded name.
      const docs = await accounts.find(conditions.length ? { $and: conditions } : {}).collation(CASE_INSENSITIVE)
        .sort({ username: 1, _id: 1 }).limit(limit).lean<AccountDoc[]>().exec();
      return docs.map(toRecord);
    },
    async remove(id) {
      // MongoDB has no cascading deletes; this mirrors SQLite's ON DELETE CASCADE. The account goes
      // first and the rest is removed regardless, so a retry after a crash finishes the job.
      await accounts.deleteOne({ _id: { $eq: id } }).exec();
      await Promise.all([
        credentials.deleteMany({ accountId: { $eq: id } }).exec(),
        codes.deleteMany({ accountId: { $eq: id } }).exec(),
        devices.deleteMany({ accountId: { $eq: id } }).exec(),
        accountPortals.deleteMany({ accountId: { $eq: id } }).exec(),
        adminGrants.deleteOne({ _id: { $eq: id } }).exec(),
        organisationMembers.deleteMany({ kind: 'account', memberId: { $eq: id } }).exec(),
      ]);
    },
    async replaceSealedPhone(id, expected, next) {
      const result = await accounts.updateOne({ _id: { $eq: id }, phoneEncrypted: { $eq: expected } }, { $set: { phoneEncrypted: next } }).exec();
      return result.matchedCount === 1;
    },
  };
}
