import type { ClientRecord, ClientStore } from '../port.ts';
import { toJsonObject } from '../json.ts';
import type { ClientDoc, Models } from './models.ts';

function toRecord(doc: ClientDoc): ClientRecord {
  return {
    clientId: doc._id,
    metadata: doc.metadata,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

export function createClientStore({ clients }: Models): ClientStore {
  return {
    async put(client) {
      const doc: ClientDoc = {
        _id: client.clientId,
        metadata: toJsonObject(client.metadata),
        createdAt: new Date(client.createdAt),
        updatedAt: new Date(client.updatedAt),
      };
      await clients.replaceOne({ _id: client.clientId }, doc, { upsert: true }).exec();
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
