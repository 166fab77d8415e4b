// Lockout records with an optimistic compare-and-swap on a version number: read, let the caller
// decide, write only if nobody wrote in between, otherwise read again. One document per key, so
// no replica-set transaction is needed.
import type { LockoutRecord, LockoutStore } from '../port.ts';
import { toDate, toMs } from './common.ts';
import type { LockoutDoc, Models } from './models.ts';

/**
 * Each round one writer wins, and a refused attempt (locked) writes nothing: a loser retries at
 * most about as often as attempts are admitted before the next lock (threshold, or the hard cap).
 */
const MAX_TRIES = 1000;

export function toRecord(doc: LockoutDoc): LockoutRecord {
  return {
    key: doc._id,
    consecutiveFailures: doc.consecutiveFailures,
    failuresSinceSuccess: doc.failuresSinceSuccess,
    locks: doc.locks,
    lockedUntil: toMs(doc.lockedUntil),
    hardLocked: doc.hardLocked,
    updatedAt: doc.updatedAt.getTime(),
    expiresAt: toMs(doc.expiresAt),
  };
}

function fields(record: LockoutRecord) {
  return {
    consecutiveFailures: record.consecutiveFailures,
    failuresSinceSuccess: record.failuresSinceSuccess,
    locks: record.locks,
    lockedUntil: toDate(record.lockedUntil),
    hardLocked: record.hardLocked,
    updatedAt: new Date(record.updatedAt),
    expiresAt: toDate(record.expiresAt),
  };
}

const live = (doc: LockoutDoc, now: number) => doc.expiresAt === null || doc.expiresAt.getTime() > now;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 11000;
}

export function createLockoutStore({ lockouts }: Models): LockoutStore {
  return {
    async get(key, now) {
      const doc = await lockouts.findOne({ _id: { $eq: key } }).lean<LockoutDoc>().exec();
      return doc && live(doc, now) ? toRecord(doc) : undefined;
    },
    async update(key, now, change) {
      for (let attempt = 0; attempt < MAX_TRIES; attempt += 1) {
        const doc = await lockouts.findOne({ _id: { $eq: key } }).lean<LockoutDoc>().exec();
        const current = doc && live(doc, now) ? toRecord(doc) : undefined;
        const { next, result } = change(current);
        if (next === current) return result;
        if (!doc) {
          if (next === null) return result;
          try {
            await lockouts.create({ _id: key, ...fields(next), version: 1 });
            return result;
          } catch (error) {
            // Another writer created it first: decide again from what it wrote.
            if (isDuplicateKey(error)) continue;
            throw error;
          }
        }
        const same = { _id: { $eq: key }, version: { $eq: doc.version } };
        if (next === null) {
          if ((await lockouts.deleteOne(same).exec()).deletedCount === 1) return result;
          continue;
        }
        const written = await lockouts.updateOne(same, { $set: { ...fields(next), version: doc.version + 1 } }).exec();
        if (written.matchedCount === 1) return result;
      }
      throw new Error(`lockout ${key}: too many concurrent writers`);
    },
    async remove(key) {
      await lockouts.deleteOne({ _id: { $eq: key } }).exec();
    },
  };
}
