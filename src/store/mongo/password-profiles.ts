import type { PasswordProfileRecord, PasswordProfileStore } from '../port.ts';
import type { PasswordProfileDoc } from './lifecycle-models.ts';
import type { Models } from './models.ts';

function toDoc(p: PasswordProfileRecord): PasswordProfileDoc {
  return {
    _id: p.name,
    minLength: p.minLength,
    maxLength: p.maxLength,
    require: [...p.require],
    specials: p.specials,
    blocklist: p.blocklist,
    notNames: p.notNames,
    history: p.history,
    createdAt: new Date(p.createdAt),
    updatedAt: new Date(p.updatedAt),
  };
}

export function toRecord(doc: PasswordProfileDoc): PasswordProfileRecord {
  return {
    name: doc._id,
    minLength: doc.minLength,
    maxLength: doc.maxLength,
    require: [...doc.require],
    specials: doc.specials,
    blocklist: doc.blocklist,
    notNames: doc.notNames,
    history: doc.history,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

export function createPasswordProfileStore({ passwordProfiles }: Models): PasswordProfileStore {
  return {
    async put(profile) {
      await passwordProfiles.replaceOne({ _id: profile.name }, toDoc(profile), { upsert: true }).exec();
    },
    async find(name) {
      const doc = await passwordProfiles.findOne({ _id: { $eq: name } }).lean<PasswordProfileDoc>().exec();
      return doc ? toRecord(doc) : undefined;
    },
    async list() {
      return (await passwordProfiles.find().sort({ _id: 1 }).lean<PasswordProfileDoc[]>().exec()).map(toRecord);
    },
    async remove(name) {
      return (await passwordProfiles.deleteOne({ _id: { $eq: name } }).exec()).deletedCount > 0;
    },
  };
}
