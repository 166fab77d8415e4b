import type { CredentialRecord, CredentialStore } from '../port.ts';
import { canonicalJson, parseJsonObject } from '../json.ts';
import { toDate, toMs } from './common.ts';
import type { CredentialDoc, Models } from './models.ts';

export function toRecord(doc: CredentialDoc): CredentialRecord {
  return {
    id: doc._id,
    accountId: doc.accountId,
    type: doc.type,
    data: parseJsonObject(doc.data),
    createdAt: doc.createdAt.getTime(),
    lastUsedAt: toMs(doc.lastUsedAt),
  };
}

function byAccount(accountId: string, type: string | undefined): Record<string, unknown> {
  return type === undefined ? { accountId: { $eq: accountId } } : { accountId: { $eq: accountId }, type: { $eq: type } };
}

export function createCredentialStore({ credentials }: Models): CredentialStore {
  return {
    async put(credential) {
      const doc: CredentialDoc = {
        _id: credential.id,
        accountId: credential.accountId,
        type: credential.type,
        data: canonicalJson(credential.data),
        createdAt: new Date(credential.createdAt),
        lastUsedAt: toDate(credential.lastUsedAt),
      };
      await credentials.replaceOne({ _id: credential.id }, doc, { upsert: true }).exec();
    },
    async listByAccount(accountId, type) {
      const docs = await credentials.find(byAccount(accountId, type)).sort({ createdAt: 1, _id: 1 }).lean<CredentialDoc[]>().exec();
      return docs.map(toRecord);
    },
    async findById(id) {
      const doc = await credentials.findOne({ _id: { $eq: id } }).lean<CredentialDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async remove(id) {
      await credentials.deleteOne({ _id: { $eq: id } }).exec();
    },
    async removeByAccount(accountId, type) {
      await credentials.deleteMany(byAccount(accountId, type)).exec();
    },
    async compareAndSwap(id, expectedData, nextData, now) {
      // A single-document update is atomic: of two racing swaps from the same expected data,
      // only the first still matches `data` when it runs.
      const result = await credentials.updateOne(
        { _id: { $eq: id }, data: { $eq: canonicalJson(expectedData) } },
        { $set: { data: canonicalJson(nextData), lastUsedAt: new Date(now) } },
      ).exec();
      return result.matchedCount === 1;
    },
  };
}
