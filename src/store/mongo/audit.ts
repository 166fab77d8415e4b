import type { AuditEvent, AuditStore } from '../port.ts';
import { toJsonObject } from '../json.ts';
import type { AuditDoc, Models } from './models.ts';

const DEFAULT_LIMIT = 100;

export function toEvent(doc: AuditDoc): AuditEvent {
  return {
    id: doc.eventId,
    at: doc.at.getTime(),
    type: doc.type,
    accountId: doc.accountId,
    clientId: doc.clientId,
    ip: doc.ip,
    actor: doc.actor ?? null,
    userAgent: doc.userAgent ?? null,
    detail: doc.detail,
  };
}

export function createAuditStore({ audit }: Models): AuditStore {
  return {
    async append(event) {
      await audit.create({
        eventId: event.id,
        at: new Date(event.at),
        type: event.type,
        accountId: event.accountId,
        clientId: event.clientId,
        ip: event.ip,
        actor: event.actor,
        userAgent: event.userAgent,
        detail: toJsonObject(event.detail),
      });
    },
    async pseudonymise(accountId, pseudonym) {
      const result = await audit.updateMany({ accountId: { $eq: accountId } }, { $set: { accountId: pseudonym } }).exec();
      return result.modifiedCount;
    },
    async list(filter = {}) {
      const limit = Math.max(0, Math.floor(filter.limit ?? DEFAULT_LIMIT));
      // MongoDB reads limit(0) as "no limit".
      if (limit === 0) return [];
      const query: Record<string, unknown> = {};
      if (filter.accountId !== undefined) query.accountId = { $eq: filter.accountId };
      if (filter.type !== undefined) query.type = { $eq: filter.type };
      const docs = await audit.find(query).sort({ at: -1, _id: -1 }).limit(limit).lean<AuditDoc[]>().exec();
      return docs.map(toEvent);
    },
    async listOldestFirst(page) {
      const limit = Math.max(0, Math.floor(page.limit));
      if (limit === 0) return [];
      const conditions: Record<string, unknown>[] = [];
      if (page.until !== undefined) conditions.push({ at: { $lt: new Date(page.until) } });
      if (page.after) {
        const at = new Date(page.after.at);
        conditions.push({ $or: [{ at: { $gt: at } }, { at, eventId: { $gt: page.after.id } }] });
      }
      const docs = await audit.find(conditions.length ? { $and: conditions } : {}).sort({ at: 1, eventId: 1 }).limit(limit).lean<AuditDoc[]>().exec();
      return docs.map(toEvent);
    },
    async search(filter) {
      const limit = Math.max(0, Math.floor(filter.limit));
      if (limit === 0) return [];
      const conditions: Record<string, unknown>[] = [];
      if (filter.accountId !== undefined) conditions.push({ accountId: { $eq: filter.accountId } });
      if (filter.actor !== undefined) conditions.push({ actor: { $eq: filter.actor } });
      if (filter.type !== undefined) conditions.push({ type: { $eq: filter.type } });
      if (filter.clientId !== undefined) conditions.push({ clientId: { $eq: filter.clientId } });
      if (filter.from !== undefined) conditions.push({ at: { $gte: new Date(filter.from) } });
      if (filter.until !== undefined) conditions.push({ at: { $lt: new Date(filter.until) } });
      if (filter.before) {
        const at = new Date(filter.before.at);
        conditions.push({ $or: [{ at: { $lt: at } }, { at, eventId: { $lt: filter.before.id } }] });
      }
      const docs = await audit.find(conditions.length ? { $and: conditions } : {}).sort({ at: -1, eventId: -1 }).limit(limit).lean<AuditDoc[]>().exec();
      return docs.map(toEvent);
    },
    // The retention job's delete, the one way an event leaves the trail (docs/architecture.md, "Audit log").
    async removeBefore(at) {
      const result = await audit.deleteMany({ at: { $lt: new Date(at) } }).exec();
      return result.deletedCount;
    },
  };
}
