import type { DeviceRecord, DeviceStore } from '../port.ts';
import { unexpired, toDate, toMs } from './common.ts';
import type { DeviceDoc, Models } from './models.ts';

function toRecord(doc: DeviceDoc): DeviceRecord {
  return {
    id: doc._id,
    accountId: doc.accountId,
    secretHash: doc.secretHash,
    amr: [...doc.amr],
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
