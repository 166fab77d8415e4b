import type { AccountPortalRecord, AccountPortalStore } from '../port.ts';
import type { AccountPortalDoc } from './lifecycle-models.ts';
import type { Models } from './models.ts';

export const toRecord = (doc: AccountPortalDoc): AccountPortalRecord => ({
  accountId: doc.accountId, clientId: doc.clientId, firstLoginAt: doc.firstLoginAt.getTime(), lastLoginAt: doc.lastLoginAt.getTime(),
});

export function createAccountPortalStore({ accountPortals, accounts }: Models): AccountPortalStore {
  return {
    async record(accountId, clientId, now) {
      // As SQLite's foreign key: a login that finishes after the account was removed leaves nothing.
      if (!(await accounts.exists({ _id: { $eq: accountId } }).exec())) return;
      const at = new Date(now);
      await accountPortals.updateOne(
        { _id: `${accountId}:${clientId}` },
        { $setOnInsert: { accountId, clientId, firstLoginAt: at }, $max: { lastLoginAt: at } },
        { upsert: true },
      ).exec();
    },
    async listByAccount(accountId) {
      const docs = await accountPortals.find({ accountId: { $eq: accountId } }).sort({ firstLoginAt: 1, clientId: 1 }).lean<AccountPortalDoc[]>().exec();
      return docs.map(toRecord);
    },
    async removeByAccount(accountId) {
      await accountPortals.deleteMany({ accountId: { $eq: accountId } }).exec();
    },
  };
}
