import type { AdminGrantRecord, AdminGrantStore, AdminRole } from '../port.ts';
import type { AdminGrantDoc } from './admin-models.ts';
import type { Models } from './models.ts';

const ROLES: readonly AdminRole[] = ['operator', 'practice', 'auditor'];

export function toRecord(doc: AdminGrantDoc): AdminGrantRecord {
  const role = ROLES.find((r) => r === doc.role);
  if (!role) throw new TypeError(`unknown admin role ${doc.role}`);
  return { accountId: doc._id, role, organisations: [...doc.organisations], grantedAt: doc.grantedAt.getTime(), grantedBy: doc.grantedBy };
}

export function createAdminGrantStore({ adminGrants }: Models): AdminGrantStore {
  return {
    async put(grant) {
      await adminGrants.replaceOne(
        { _id: grant.accountId },
        { _id: grant.accountId, role: grant.role, organisations: [...grant.organisations], grantedAt: new Date(grant.grantedAt), grantedBy: grant.grantedBy },
        { upsert: true },
      ).exec();
    },
    async find(accountId) {
      const doc = await adminGrants.findOne({ _id: { $eq: accountId } }).lean<AdminGrantDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async list() {
      return (await adminGrants.find().sort({ grantedAt: 1, _id: 1 }).lean<AdminGrantDoc[]>().exec()).map(toRecord);
    },
    async remove(accountId) {
      return (await adminGrants.deleteOne({ _id: { $eq: accountId } }).exec()).deletedCount > 0;
    },
  };
}
