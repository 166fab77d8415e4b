import type { OrganisationRecord, OrganisationStore } from '../port.ts';
import type { OrganisationDoc } from './admin-models.ts';
import type { Models } from './models.ts';
import { asDuplicateError } from './common.ts';

export const toRecord = (doc: OrganisationDoc): OrganisationRecord => ({ id: doc._id, name: doc.name, createdAt: doc.createdAt.getTime(), updatedAt: doc.updatedAt.getTime() });

export function createOrganisationStore({ organisations, organisationMembers }: Models): OrganisationStore {
  return {
    async create(organisation) {
      try {
        await organisations.create({ _id: organisation.id, name: organisation.name, createdAt: new Date(organisation.createdAt), updatedAt: new Date(organisation.updatedAt) });
      } catch (error) {
        throw asDuplicateError(error, { _id: 'id' });
      }
    },
    async find(id) {
      const doc = await organisations.findOne({ _id: { $eq: id } }).lean<OrganisationDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async list() {
      return (await organisations.find().sort({ _id: 1 }).lean<OrganisationDoc[]>().exec()).map(toRecord);
    },
    async remove(id) {
      const removed = (await organisations.deleteOne({ _id: { $eq: id } }).exec()).deletedCount > 0;
      // Repeating the cascade is harmless (deleteMany is not retryable; see index.ts).
      await organisationMembers.deleteMany({ organisationId: { $eq: id } }).exec();
      return removed;
    },
    async setMemberships(kind, memberId, organisationIds) {
      // SQLite's foreign key refuses an unknown organisation; here it is checked first. Not one
      // transaction: a process dying half-way leaves a subset, which the next call replaces.
      const known = await organisations.countDocuments({ _id: { $in: [...organisationIds] } }).exec();
      if (known !== new Set(organisationIds).size) throw new Error('unknown organisation');
      await organisationMembers.deleteMany({ kind: { $eq: kind }, memberId: { $eq: memberId }, organisationId: { $nin: [...organisationIds] } }).exec();
      for (const organisationId of organisationIds) {
        const _id = `${kind}:${memberId}:${organisationId}`;
        await organisationMembers.updateOne({ _id: { $eq: _id } }, { $setOnInsert: { organisationId, kind, memberId } }, { upsert: true }).exec();
      }
    },
    async memberships(kind, memberId) {
      const docs = await organisationMembers.find({ kind: { $eq: kind }, memberId: { $eq: memberId } }).sort({ organisationId: 1 }).lean<{ organisationId: string }[]>().exec();
      return docs.map((doc) => doc.organisationId);
    },
    async members(kind, organisationIds) {
      if (!organisationIds.length) return [];
      const ids = await organisationMembers.distinct('memberId', { kind: { $eq: kind }, organisationId: { $in: [...organisationIds] } }).exec();
      return ids.map(String).sort();
    },
  };
}
