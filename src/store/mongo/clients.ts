import type { ClientRecord, ClientStore } from '../port.ts';
import { toJsonObject } from '../json.ts';
import type { ClientDoc, Models } from './models.ts';
import { isDuplicateKey } from './common.ts';

export function toRecord(doc: ClientDoc): ClientRecord {
  return {
    clientId: doc._id,
    metadata: doc.metadata,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

function toDoc(client: ClientRecord): ClientDoc {
  return {
    _id: client.clientId,
    metadata: toJsonObject(client.metadata),
    createdAt: new Date(client.createdAt),
    updatedAt: new Date(client.updatedAt),
  };
}

export function createClientStore({ clients }: Models): ClientStore {
  return {
    async put(client) {
      await clients.replaceOne({ _id: client.clientId }, toDoc(client), { upsert: true }).exec();
    },
    async putIfAbsent(client) {
      const { _id, ...fields } = toDoc(client);
      try {
        const result = await clients.updateOne({ _id: { $eq: _id } }, { $setOnInsert: fields }, { upsert: true }).exec();
        return result.upsertedCount === 1;
      } catch (error) {
        // Two upserts of one new _id at the same moment: the loser gets a duplicate key error.
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async find(clientId) {
      const doc = await clients.findOne({ _id: { $eq: clientId } }).lean<ClientDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async list() {
      const docs = await clients.find().sort({ createdAt: 1, _id: 1 }).lean<ClientDoc[]>().exec();
      return docs.map(toRecord);
    },
    async remove(clientId) {
      const result = await clients.deleteOne({ _id: { $eq: clientId } }).exec();
      return result.deletedCount > 0;
    },
  };
}
