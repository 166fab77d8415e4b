import type { FlowRecord, FlowStore } from '../port.ts';
import { toJsonObject } from '../json.ts';
import { unexpired } from './common.ts';
import type { FlowDoc, Models } from './models.ts';

export function toRecord(doc: FlowDoc): FlowRecord {
  return {
    id: doc._id,
    kind: doc.kind,
    interactionUid: doc.interactionUid,
    accountId: doc.accountId,
    clientId: doc.clientId,
    state: doc.state,
    csrf: doc.csrf,
    createdAt: doc.createdAt.getTime(),
    expiresAt: doc.expiresAt.getTime(),
  };
}

export function createFlowStore({ flows }: Models): FlowStore {
  return {
    async put(flow) {
      const doc: FlowDoc = {
        _id: flow.id,
        kind: flow.kind,
        interactionUid: flow.interactionUid,
        accountId: flow.accountId,
        clientId: flow.clientId,
        state: toJsonObject(flow.state),
        csrf: flow.csrf,
        createdAt: new Date(flow.createdAt),
        expiresAt: new Date(flow.expiresAt),
      };
      await flows.replaceOne({ _id: flow.id }, doc, { upsert: true }).exec();
    },
    async find(id, now) {
      const doc = await flows.findOne({ _id: { $eq: id }, ...unexpired(now) }).lean<FlowDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async findByInteraction(interactionUid, now) {
      // Should an interaction ever have started two flows, the newest is the one the browser is in.
      const doc = await flows
        .findOne({ interactionUid: { $eq: interactionUid }, ...unexpired(now) })
        .sort({ createdAt: -1, _id: -1 })
        .lean<FlowDoc>()
        .exec();
      return doc ? toRecord(doc) : undefined;
    },
    async remove(id) {
      await flows.deleteOne({ _id: { $eq: id } }).exec();
    },
    async removeByAccount(accountId, exceptId) {
      await flows.deleteMany({ accountId: { $eq: accountId }, ...(exceptId !== undefined ? { _id: { $ne: exceptId } } : {}) }).exec();
    },
  };
}
