import { provenanceFields, type SessionProofRecord, type SessionProofStore } from '../port.ts';
import { unexpired } from './common.ts';
import type { Models, SessionProofDoc } from './models.ts';

export function toRecord(doc: SessionProofDoc): SessionProofRecord {
  return {
    sessionUid: doc._id,
    accountId: doc.accountId,
    proofs: doc.proofs.map(provenanceFields),
    login: doc.login ? { startedAt: doc.login.startedAt, completedAt: doc.login.completedAt } : null,
    expiresAt: doc.expiresAt.getTime(),
  };
}

export function createSessionProofStore({ sessionProofs }: Models): SessionProofStore {
  return {
    async put(record) {
      const doc: SessionProofDoc = {
        _id: record.sessionUid,
        accountId: record.accountId,
        // Only the known fields: a record must never carry more than the port describes.
        proofs: record.proofs.map(provenanceFields),
        login: record.login ? { startedAt: record.login.startedAt, completedAt: record.login.completedAt } : null,
        expiresAt: new Date(record.expiresAt),
      };
      await sessionProofs.replaceOne({ _id: record.sessionUid }, doc, { upsert: true }).exec();
    },
    async find(sessionUid, now) {
      const doc = await sessionProofs.findOne({ _id: { $eq: sessionUid }, ...unexpired(now) }).lean<SessionProofDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async removeByAccount(accountId) {
      await sessionProofs.deleteMany({ accountId: { $eq: accountId } }).exec();
    },
  };
}
