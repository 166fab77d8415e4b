import type { SettingStore } from '../port.ts';
import { isDuplicateKey } from './common.ts';
import type { Models, SettingDoc } from './models.ts';

/** Through JSON so both back ends return the same thing (Dates as strings, no undefined). */
function asJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('a setting must be JSON data');
  return JSON.parse(text) as unknown;
}

export function createSettingStore({ settings }: Models): SettingStore {
  return {
    async get<T>(name: string): Promise<T | undefined> {
      const doc = await settings.findOne({ _id: { $eq: name } }).lean<SettingDoc>().exec();
      // The caller names the type it stored; the store only round-trips JSON.
      return doc ? (doc.value as T) : undefined;
    },
    async put(name, value) {
      // Storing `undefined` means "no value", which get() reports as undefined.
      if (value === undefined) {
        await settings.deleteOne({ _id: { $eq: name } }).exec();
        return;
      }
      const doc: SettingDoc = { _id: name, value: asJson(value) };
      await settings.replaceOne({ _id: name }, doc, { upsert: true }).exec();
    },
    async putIfAbsent(name, value) {
      try {
        const result = await settings.updateOne({ _id: { $eq: name } }, { $setOnInsert: { value: asJson(value) } }, { upsert: true }).exec();
        return result.upsertedCount === 1;
      } catch (error) {
        // Two upserts of one new _id at the same moment: the loser gets a duplicate key error.
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async compareAndSet(name, expected, next) {
      // The expected value was read from this document, so it has the stored key order and types,
      // and MongoDB's equality on embedded documents matches it exactly.
      const result = await settings.replaceOne({ _id: { $eq: name }, value: { $eq: asJson(expected) } }, { _id: name, value: asJson(next) }).exec();
      return result.matchedCount === 1;
    },
  };
}
