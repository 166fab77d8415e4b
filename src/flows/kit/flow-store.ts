// A flow is a persisted object: every hosted form posts to its flow, and the flow's state lives
// in the store, so a restart or a second process continues where the user was. Found by the
// interaction uid (login: oidc-provider's interaction cookie is scoped to that path) or by id.
import type { FlowRecord, Store } from '../../store/port.ts';
import type { Clock } from '../../clock.ts';
import type { StepScratch } from '../../steps/step.ts';
import type { Policy } from '../../policy/defaults.ts';
import { randomId, safeEqual } from '../../accounts/random.ts';

export interface Flow<S extends object> extends Omit<FlowRecord, 'state'> {
  state: S;
}

export class Flows {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: Policy['flows'],
  ) {}

  async create<S extends object>(kind: string, init: { interactionUid?: string; clientId?: string; accountId?: string; state: S }): Promise<Flow<S>> {
    const now = this.clock.now();
    const flow: Flow<S> = {
      id: randomId(16),
      kind,
      interactionUid: init.interactionUid ?? null,
      accountId: init.accountId ?? null,
      clientId: init.clientId ?? null,
      state: init.state,
      csrf: randomId(24),
      createdAt: now,
      // Outlives the oidc interaction a while, so an expired page can still name its portal.
      expiresAt: now + (this.policy.ttlSeconds + this.policy.keptAfterExpirySeconds) * 1000,
    };
    await this.save(flow);
    return flow;
  }

  async byInteraction<S extends object>(kind: string, uid: string): Promise<Flow<S> | undefined> {
    const record = await this.store.flows.findByInteraction(uid, this.clock.now());
    return record && record.kind === kind ? (record as Flow<S>) : undefined;
  }

  async byId<S extends object>(kind: string, id: string): Promise<Flow<S> | undefined> {
    const record = await this.store.flows.find(id, this.clock.now());
    return record && record.kind === kind ? (record as Flow<S>) : undefined;
  }

  save<S extends object>(flow: Flow<S>): Promise<void> {
    return this.store.flows.put(flow as unknown as FlowRecord);
  }

  remove(id: string): Promise<void> {
    return this.store.flows.remove(id);
  }
}

/** CSRF: every form carries the flow's token; a post without the right one is refused. */
export function csrfMatches(flow: { csrf: string }, posted: unknown): boolean {
  return typeof posted === 'string' && safeEqual(flow.csrf, posted);
}

/** A step's scratch space inside a flow's state. */
export function scratchOf(bag: Record<string, Record<string, unknown>>, stepId: string): StepScratch {
  return {
    get: <T>(key: string) => bag[stepId]?.[key] as T | undefined,
    set: (key, value) => {
      bag[stepId] = { ...bag[stepId], [key]: value };
    },
    clear: () => {
      delete bag[stepId];
    },
  };
}
