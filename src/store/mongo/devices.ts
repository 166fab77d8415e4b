import type { DeviceRecord, DeviceStore } from '../port.ts';
import { unexpired, toDate, toMs } from './common.ts';
import type { DeviceDoc, Models } from './models.ts';

/**
 * Devices remembered before the record had fields of its own kept `[factor, strength, ...amr]` in
 * `amr`. Split once at start (the SQLite store's migration 5 does the same to its rows); a document
 * of that shape written meanwhile by an older process is read the same way.
 */
export async function upgradeLegacyDevices({ devices }: Models): Promise<void> {
  await devices.updateMany({ factor: { $exists: false } }, [
    {
      $set: {
        factor: { $ifNull: [{ $arrayElemAt: ['$amr', 0] }, ''] },
        strength: { $cond: [{ $eq: [{ $arrayElemAt: ['$amr', 1] }, '2'] }, 2, 1] },
        amr: { $slice: ['$amr', 2, { $max: [{ $size: '$amr' }, 1] }] },
      },
    },
  ], { updatePipeline: true }).exec();
}

export function toRecord(doc: DeviceDoc): DeviceRecord {
  const [factor = '', strength = '1', ...amr] = doc.factor === undefined ? doc.amr : [doc.factor, String(doc.strength), ...doc.amr];
  return {
    id: doc._id,
    accountId: doc.accountId,
    secretHash: doc.secretHash,
    factor,
    strength: strength === '2' ? 2 : 1,
    amr,
    acr: doc.acr,
    label: doc.label,
    createdAt: doc.createdAt.getTime(),
    expiresAt: doc.expiresAt.getTime(),
    lastUsedAt: toMs(doc.lastUsedAt),
  };
}

export function createDeviceStore({ devices }: Models): DeviceStore {
  return {
    async put(device) {
      const doc: DeviceDoc = {
        _id: device.id,
        accountId: device.accountId,
        secretHash: device.secretHash,
        factor: device.factor,
        strength: device.strength,
        amr: [...device.amr],
        acr: device.acr,
        label: device.label,
        createdAt: new Date(device.createdAt),
        expiresAt: new Date(device.expiresAt),
        lastUsedAt: toDate(device.lastUsedAt),
      };
      await devices.replaceOne({ _id: device.id }, doc, { upsert: true }).exec();
    },
    async find(id, now) {
      const doc = await devices.findOne({ _id: { $eq: id }, ...unexpired(now) }).lean<DeviceDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async listByAccount(accountId, now) {
      const docs = await devices
        .find({ accountId: { $eq: accountId }, ...unexpired(now) })
        .sort({ createdAt: 1, _id: 1 })
        .lean<DeviceDoc[]>()
        .exec();
      return docs.map(toRecord);
    },
    async remove(id) {
      await devices.deleteOne({ _id: { $eq: id } }).exec();
    },
    async removeByAccount(accountId) {
      await devices.deleteMany({ accountId: { $eq: accountId } }).exec();
    },
  };
}
