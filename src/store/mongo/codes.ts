import type { OneTimeCodeRecord, OneTimeCodeStore } from '../port.ts';
import { unexpired, toDate, toMs } from './common.ts';
import type { CodeDoc, Models } from './models.ts';

export function toRecord(doc: CodeDoc): OneTimeCodeRecord {
  return {
    id: doc._id,
    accountId: doc.accountId,
    purpose: doc.purpose,
    // Codes written before codes were bound to flows have no field at all.
    flowId: doc.flowId ?? null,
    codeHash: doc.codeHash,
    attempts: doc.attempts,
    sentAt: doc.sentAt.getTime(),
    expiresAt: doc.expiresAt.getTime(),
    consumedAt: toMs(doc.consumedAt),
  };
}

export function createOneTimeCodeStore({ codes }: Models): OneTimeCodeStore {
  return {
    async replace(code) {
      const doc: CodeDoc = {
        _id: code.id,
        accountId: code.accountId,
        purpose: code.purpose,
        flowId: code.flowId,
        codeHash: code.codeHash,
        attempts: code.attempts,
        sentAt: new Date(code.sentAt),
        expiresAt: new Date(code.expiresAt),
        consumedAt: toDate(code.consumedAt),
      };
      // No multi-document transaction here (those need a replica set). Writing the new code first
      // means there is never a moment without one, and deleting only codes sent no later than it
      // means two racing resends cannot delete each other's code and leave none.
      await codes.replaceOne({ _id: code.id }, doc, { upsert: true }).exec();
      await codes.deleteMany({
        accountId: { $eq: code.accountId },
        purpose: { $eq: code.purpose },
        _id: { $ne: code.id },
        sentAt: { $lte: doc.sentAt },
      }).exec();
    },
    async findActive(accountId, purpose, now) {
      const doc = await codes
        .findOne({ accountId: { $eq: accountId }, purpose: { $eq: purpose }, consumedAt: null, ...unexpired(now) })
        .sort({ sentAt: -1, _id: -1 })
        .lean<CodeDoc>()
        .exec();
      return doc ? toRecord(doc) : undefined;
    },
    async recordAttempt(id) {
      const doc = await codes
        .findOneAndUpdate({ _id: { $eq: id } }, { $inc: { attempts: 1 } }, { returnDocument: 'after' })
        .lean<CodeDoc>()
        .exec();
      // 0 for a code that no longer exists (replaced or removed meanwhile); it cannot be consumed
      // either, so the caller's verification fails on its own.
      return doc?.attempts ?? 0;
    },
    async consume(id, now) {
      const doc = await codes
        .findOneAndUpdate({ _id: { $eq: id }, consumedAt: null }, { $set: { consumedAt: new Date(now) } })
        .lean<CodeDoc>()
        .exec();
      return doc !== null;
    },
    async removeByAccount(accountId, purpose) {
      const filter = purpose === undefined
        ? { accountId: { $eq: accountId } }
        : { accountId: { $eq: accountId }, purpose: { $eq: purpose } };
      await codes.deleteMany(filter).exec();
    },
  };
}
