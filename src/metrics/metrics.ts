// Prometheus metrics (prom-client), one registry per server: tests run several servers in one
// process, and each must count only its own requests. Every label takes values from a set the
// code fixes (route patterns, store methods, factor ids, registered portals), never from what a
// request says, so the number of series stays bounded whatever is sent to us.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent } from '../store/port.ts';
import type { StoreOutcome } from '../store/observe.ts';
import { countAuditEvent } from './audit-metrics.ts';

/** HTTP: from a cached JWKS answer (well under a millisecond) to a login with argon2id. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Store calls: SQLite reads take microseconds, MongoDB round trips milliseconds. */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export interface AuditCounters {
  logins: Counter<'portal' | 'method' | 'result'>;
  loginsCompleted: Counter<'portal' | 'acr'>;
  codeSends: Counter<'channel' | 'purpose' | 'result'>;
  lockouts: Counter<'scope' | 'kind'>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly store: Histogram<'part' | 'method' | 'outcome'>;
  private readonly counters: AuditCounters;
  private readonly busy: Counter<'outcome'>;

  private processMetrics = false;

  constructor() {
    const registers = [this.registry];
    this.http = new Histogram({
      name: 'poortwachter_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.store = new Histogram({
      name: 'poortwachter_store_operation_duration_seconds',
      help: 'Time of one store call, by sub-store (part) and method; outcome ok, unavailable (503) or error',
      labelNames: ['part', 'method', 'outcome'],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.busy = new Counter({
      name: 'poortwachter_sqlite_busy_total',
      help: 'SQLite store calls that met another process\'s write lock (SQLITE_BUSY), by outcome: retried after a jittered pause, or gave_up (a 503)',
      labelNames: ['outcome'],
      registers,
    });
    this.counters = {
      logins: new Counter({
        name: 'poortwachter_logins_total',
        help: 'Sign-in steps by portal, method (password, sms, voice, email, totp, recovery, remembered_device) and result (ok, failed, locked, disabled)',
        labelNames: ['portal', 'method', 'result'],
        registers,
      }),
      loginsCompleted: new Counter({
        name: 'poortwachter_logins_completed_total',
        help: 'Logins handed to a portal, by portal and the level (acr) reached',
        labelNames: ['portal', 'acr'],
        registers,
      }),
      codeSends: new Counter({
        name: 'poortwachter_code_sends_total',
        help: 'One-time codes by channel (sms, voice, email), purpose (login, enrol) and result (sent, cooldown, hourly_cap, failed, rejected)',
        labelNames: ['channel', 'purpose', 'result'],
        registers,
      }),
      lockouts: new Counter({
        name: 'poortwachter_lockouts_total',
        help: 'Password locks by scope (account, login-name) and kind (temporary, hard)',
        labelNames: ['scope', 'kind'],
        registers,
      }),
    };
  }

  sqliteBusy(outcome: 'retried' | 'gave_up'): void {
    this.busy.inc({ outcome });
  }

  /**
   * Adds prom-client's process metrics (CPU, memory, event loop lag, GC, handles). Only a serving
   * process does: a CLI run has nobody to scrape it.
   */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  storeCall(part: string, method: string, seconds: number, outcome: StoreOutcome): void {
    this.store.observe({ part, method, outcome }, seconds);
  }

  /** Called for every audit event recorded: the one place where logins, sends and locks are counted. */
  audited(event: AuditEvent): void {
    countAuditEvent(event, this.counters);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
