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
    return { grantId: stringMember(payload, 'grantId'), uid: stringMember(payload, 'uid'), userCode: stringMember(payload, 'userCode'), accountId: stringMember(payload, 'accountId') };
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
    async listByAccount(model, accountId, now) {
      const docs = await oidc.find({ model, accountId: { $eq: accountId }, ...unexpiredOrPermanent(now) }).lean<OidcDoc[]>().exec();
      return docs.map((doc) => toRecord(doc)!);
    },
    consume(model, id, now) {
      return consume(model, id, new Date(now));
    },
    async rotate(model, consumedId, id, payload, expiresAt, now) {
      // Two documents and no multi-document transaction (a standalone server has none): when the
      // new token cannot be stored, the consumption is undone, so the client's retry still works.
      const at = new Date(now);
      if (!(await consume(model, consumedId, at))) return false;
      try {
        await save(model, id, payload, expiresAt);
      } catch (error) {
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
    async rewriteAll(transform) {
      let changed = 0;
      for await (const doc of oidc.find({}).lean<OidcDoc>().cursor()) {
        const id = doc._id.slice(doc.model.length + 1);
        const next = transform(doc.model, id, doc.payload);
        if (!next) continue;
        // _id cannot change in place: insert the record under its new id, then drop the old one.
        await oidc.updateOne(
          { _id: docId(doc.model, next.id) },
          { $set: { model: doc.model, payload: toJsonObject(next.payload), ...indexed(next.payload), expiresAt: doc.expiresAt, consumedAt: doc.consumedAt } },
          { upsert: true },
        ).exec();
        if (next.id !== id) await oidc.deleteOne({ _id: doc._id }).exec();
        changed += 1;
      }
      return changed;
    },
  };
}
