import type { ThrottleRecord, ThrottleStore } from '../port.ts';
import type { Models, ThrottleDoc } from './models.ts';

export function toRecord(doc: ThrottleDoc): ThrottleRecord {
  return {
    key: doc._id,
    count: doc.count,
    windowStartedAt: doc.windowStartedAt.getTime(),
    windowEndsAt: doc.windowEndsAt.getTime(),
    lastHitAt: doc.lastHitAt.getTime(),
  };
}

export function createThrottleStore({ throttles }: Models): ThrottleStore {
  return {
    async hit(key, windowMs, now) {
      const at = new Date(now);
      // An update pipeline decides "new window or +1" inside one atomic upsert, so concurrent hits
      // from several processes never lose a count. Every field of the $set stage sees the document
      // as it was before it; a fresh upsert has no windowEndsAt, which counts as an ended window.
      const ended = { $lte: [{ $ifNull: ['$windowEndsAt', new Date(0)] }, at] };
      const doc = await throttles
        .findOneAndUpdate(
          // A plain equality, so an upsert takes the key as the new document's _id.
          { _id: key },
          [{
            $set: {
              count: { $cond: [ended, 1, { $add: ['$count', 1] }] },
              windowStartedAt: { $cond: [ended, at, '$windowStartedAt'] },
              windowEndsAt: { $cond: [ended, new Date(now + windowMs), '$windowEndsAt'] },
              lastHitAt: at,
            },
          }],
          { upsert: true, returnDocument: 'after', updatePipeline: true },
        )
        .lean<ThrottleDoc>()
        .exec();
      if (!doc) throw new Error('throttle upsert returned no document');
      return toRecord(doc);
    },
    async get(key, now) {
      const doc = await throttles
        .findOne({ _id: { $eq: key }, windowEndsAt: { $gt: new Date(now) } })
        .lean<ThrottleDoc>()
        .exec();
      return doc ? toRecord(doc) : undefined;
    },
    async reset(key) {
      await throttles.deleteOne({ _id: { $eq: key } }).exec();
    },
    async release(key, now) {
      await throttles
        .updateOne({ _id: { $eq: key }, windowEndsAt: { $gt: new Date(now) }, count: { $gt: 0 } }, { $inc: { count: -1 } })
        .exec();
    },
  };
}
