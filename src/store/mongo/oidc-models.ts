import type { OidcModelStore, OidcRecord } from '../port.ts';
import { toJsonObject } from '../json.ts';
import { unexpiredOrPermanent, toDate, toMs } from './common.ts';
import type { Models, OidcDoc } from './models.ts';

function docId(model: string, id: string): string {
  return `${model}:${id}`;
}

function stringMember(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' ? value : null;
}

function toRecord(doc: OidcDoc | null): OidcRecord | undefined {
  if (!doc) return undefined;
  return { payload: doc.payload, expiresAt: toMs(doc.expiresAt), consumedAt: toMs(doc.consumedAt) };
}

export function createOidcModelStore({ oidc }: Models): OidcModelStore {
  async function findOne(filter: Record<string, unknown>, now: number): Promise<OidcRecord | undefined> {
    return toRecord(await oidc.findOne({ ...filter, ...unexpiredOrPermanent(now) }).lean<OidcDoc>().exec());
  }

  function indexed(payload: Record<string, unknown>) {
    return {
      grantId: stringMember(payload, 'grantId'), uid: stringMember(payload, 'uid'), userCode: stringMember(payload, 'userCode'),
      accountId: stringMember(payload, 'accountId'),
    };
  }

  async function save(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void> {
    // $set leaves consumedAt alone: a re-saved consumed code or token must stay consumed.
    await oidc.updateOne(
      { _id: docId(model, id) },
      { $set: { model, payload: toJsonObject(payload), ...indexed(payload), expiresAt: toDate(expiresAt) } },
      { upsert: true },
    ).exec();
  }

  async function consume(model: string, id: string, at: Date): Promise<boolean> {
    // A single-document compare-and-swap: only the first caller finds consumedAt still null.
    const result = await oidc.updateOne({ _id: { $eq: docId(model, id) }, consumedAt: null }, { $set: { consumedAt: at } }).exec();
    return result.matchedCount === 1;
  }

  return {
    upsert: save,
    async find(model, id, now) {
      return findOne({ _id: { $eq: docId(model, id) } }, now);
    },
    async findByUid(model, uid, now) {
      return findOne({ model, uid: { $eq: uid } }, now);
    },
    async findByUserCode(model, userCode, now) {
      return findOne({ model, userCode: { $eq: userCode } }, now);
    },
    consume(model, id, now) {
      return consume(model, id, new Date(now));
    },
    async rotate(model, consumedId, id, payload, expiresAt, now, alongside = []) {
      // Several documents and no multi-document transaction (a standalone server has none): when a
      // new record cannot be stored, the consumption is undone and what was stored is removed, so
      // the client's retry still works.
      const at = new Date(now);
      if (!(await consume(model, consumedId, at))) return false;
      const stored: string[] = [];
      try {
        await save(model, id, payload, expiresAt);
        stored.push(docId(model, id));
        for (const record of alongside) {
          await save(record.model, record.id, record.payload, record.expiresAt);
          stored.push(docId(record.model, record.id));
        }
      } catch (error) {
        await oidc.deleteMany({ _id: { $in: stored } }).exec().catch(() => undefined);
        await oidc.updateOne({ _id: { $eq: docId(model, consumedId) }, consumedAt: at }, { $set: { consumedAt: null } }).exec().catch(() => undefined);
        throw error;
      }
      return true;
    },
    async destroy(model, id) {
      await oidc.deleteOne({ _id: docId(model, id) }).exec();
    },
    async revokeByGrantId(grantId) {
      await oidc.deleteMany({ grantId: { $eq: grantId } }).exec();
    },
    async revokeByAccount(accountId, options = {}) {
      const keep = options.exceptSessionUid;
      const filter = keep === undefined
        ? { accountId: { $eq: accountId } }
        : { accountId: { $eq: accountId }, $nor: [{ model: 'Session', uid: { $eq: keep } }] };
      return (await oidc.deleteMany(filter).exec()).deletedCount;
    },
    async rewriteAll(transform) {
      let changed = 0;
      for await (const doc of oidc.find({}).lean<OidcDoc>().cursor()) {
        const id = doc._id.slice(doc.model.length + 1);
        const next = transform(doc.model, id, doc.payload);
        if (!next) continue;
        // _id cannot change in place: the record goes under its new id, then the old one goes.
        // Several processes may run this at once, and a token may be consumed meanwhile (by a
        // process of this version under the new id, or of the older one under the old id), so
        // consumedAt is never lowered: $max keeps a later consumption (null sorts before every
        // Date in BSON order), and an unconsumed record only sets null on insert.
        const target = docId(doc.model, next.id);
        const consumption = doc.consumedAt ? { $max: { consumedAt: doc.consumedAt } } : { $setOnInsert: { consumedAt: null } };
        await oidc.updateOne(
          { _id: target },
          { $set: { model: doc.model, payload: toJsonObject(next.payload), ...indexed(next.payload), expiresAt: doc.expiresAt }, ...consumption },
          { upsert: true },
        ).exec();
        if (next.id !== id) {
          // findOneAndDelete returns the old record as it was when deleted: a consumption that
          // happened after our read is carried over, so the token stays spent.
          const old = await oidc.findOneAndDelete({ _id: { $eq: doc._id } }).lean<OidcDoc>().exec();
          if (old?.consumedAt) await oidc.updateOne({ _id: { $eq: target } }, { $max: { consumedAt: old.consumedAt } }).exec();
        }
        changed += 1;
      }
      return changed;
    },
  };
}
