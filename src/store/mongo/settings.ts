import type { SettingStore } from '../port.ts';
import type { Models, SettingDoc } from './models.ts';

export function createSettingStore({ settings }: Models): SettingStore {
  return {
    async get<T>(name: string): Promise<T | undefined> {
      const doc = await settings.findOne({ _id: { $eq: name } }).lean<SettingDoc>().exec();
      // The caller names the type it stored; the store only round-trips JSON.
      return doc ? (doc.value as T) : undefined;
    },
    async put(name, value) {
      const text = JSON.stringify(value);
      // JSON has no `undefined`: storing it means "no value", which get() reports as undefined.
      if (text === undefined) {
        await settings.deleteOne({ _id: { $eq: name } }).exec();
        return;
      }
      // Through JSON so both back ends return the same thing (Dates as strings, no undefined).
      const doc: SettingDoc = { _id: name, value: JSON.parse(text) as unknown };
      await settings.replaceOne({ _id: name }, doc, { upsert: true }).exec();
    },
  };
}
