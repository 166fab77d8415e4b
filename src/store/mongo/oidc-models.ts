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

  return {
    async upsert(model, id, payload, expiresAt) {
      // $set leaves consumedAt alone: a re-saved consumed code or token must stay consumed.
      await oidc.updateOne(
        { _id: docId(model, id) },
        {
          $set: {
            model,
            payload: toJsonObject(payload),
            grantId: stringMember(payload, 'grantId'),
            uid: stringMember(payload, 'uid'),
            userCode: stringMember(payload, 'userCode'),
            expiresAt: toDate(expiresAt),
          },
        },
        { upsert: true },
      ).exec();
    },
    async find(model, id, now) {
      return findOne({ _id: { $eq: docId(model, id) } }, now);
    },
    async findByUid(model, uid, now) {
      return findOne({ model, uid: { $eq: uid } }, now);
    },
    async findByUserCode(model, userCode, now) {
      return findOne({ model, userCode: { $eq: userCode } }, now);
    },
    async consume(model, id, now) {
      // Keeps the first consumption time: that is the moment a replay is measured against.
      await oidc.updateOne({ _id: docId(model, id), consumedAt: null }, { $set: { consumedAt: new Date(now) } }).exec();
    },
    async destroy(model, id) {
      await oidc.deleteOne({ _id: docId(model, id) }).exec();
    },
    async revokeByGrantId(grantId) {
      await oidc.deleteMany({ grantId: { $eq: grantId } }).exec();
    },
  };
}
