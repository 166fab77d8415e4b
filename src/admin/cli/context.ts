// What a command gets: output, stdin, and the application's services built from the same
// environment as the server (DATA_DIR / DATABASE_URL, SECRETS_KEY, ...), so the CLI reads and
// writes exactly the data a running server uses. Services are built on first use: `--help` and
// usage errors never open the store.
import os from 'node:os';
import { loadConfig, type Config } from '../../config.ts';
import { buildServices } from '../../bootstrap.ts';
import { prepareSealedStore } from '../../sealed-store.ts';
import { hasSigningKeys } from '../../oidc/keys.ts';
import { createLogger } from '../../log.ts';
import { createApp } from '../../web/app.ts';
import { ClientRegistry } from '../../oidc/client-registry.ts';
import type { AuditInput } from '../../accounts/audit.ts';
import type { Services } from '../../services.ts';
import type { Output } from './output.ts';
import { adminDeps, createAdminOperations, type Actor, type AdminOperations } from '../operations/index.ts';
import { providerRegistrationTokens } from '../../oidc/registration.ts';
import { invitationsForAdmin } from '../invitations-adapter.ts';

export interface CliContext {
  out: Output;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stderr: NodeJS.WritableStream;
  services(): Promise<Services>;
  /** The configuration, for commands that open the store their own way (`db migrate`). */
  config(): Config;
  /**
   * The client registry, for commands that write metadata: it builds the oidc-provider instance
   * (not listening) that validates it. Building it has side effects on the store (createApp
   * generates missing keys and rewrites the account pages' client for this ISSUER), so commands
   * that only read or delete use `services().store` instead.
   */
  clients(): Promise<ClientRegistry>;
  /** Audit trail entry for an administrative change, marked as done from the CLI by whom. */
  audit(event: AuditInput): Promise<void>;
  /** The admin operations (admin/operations), the same the console and the API call. */
  operations(): Promise<AdminOperations>;
  /** The CLI's actor: an operator (the machine's access control decided), named by OS user. */
  readonly actor: Actor;
}

/** The audit trail's actor for what an operator does from the CLI. */
export function operatorActor(): string {
  return `operator:${operator() ?? 'unknown'}`;
}

function operator(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the event is still worth recording.
    return process.env.USER ?? null;
  }
}

export class CliSession implements CliContext {
  private built: Promise<Services> | undefined;
  private registry: Promise<ClientRegistry> | undefined;
  private app: ReturnType<typeof createApp> | undefined;
  readonly actor: Actor = { kind: 'cli', operator: operator() ?? 'unknown' };

  constructor(
    readonly out: Output,
    readonly stdin: CliContext['stdin'],
    readonly stderr: NodeJS.WritableStream,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {}

  config(): Config {
    return loadConfig(this.env);
  }

  services(): Promise<Services> {
    this.built ??= (async () => {
      const config = this.config();
      // Logs go to stderr (stdout belongs to the result) and stay quiet unless asked for.
      const logger = createLogger(this.env.LOG_LEVEL ? config.logLevel : 'warn', this.stderr);
      const services = await buildServices(config, { logger });
      // An installation that has started before is brought up to date first, as the server does at
      // its start (sealed-store.ts): a value this command seals bound must never be the first. An
      // empty store (a `db import` target, say) is left as it is: its first start does this.
      if (await hasSigningKeys(services.store)) await prepareSealedStore(services);
      return services;
    })();
    return this.built;
  }

  private provider() {
    this.app ??= this.services().then((services) => createApp(services));
    return this.app.then((app) => app.provider);
  }

  clients(): Promise<ClientRegistry> {
    this.registry ??= (async () => {
      const services = await this.services();
      return new ClientRegistry(services.store, await this.provider(), services.clock, services.box);
    })();
    return this.registry;
  }

  async operations(): Promise<AdminOperations> {
    const services = await this.services();
    return createAdminOperations(adminDeps(services, () => this.clients(), {
      invitations: invitationsForAdmin(services.invitations),
      registrationTokens: { mint: async (seconds) => providerRegistrationTokens(await this.provider(), services.clock).mint(seconds) },
    }));
  }

  async audit(event: AuditInput): Promise<void> {
    const services = await this.services();
    await services.audit.record({ actor: operatorActor(), ...event, detail: { ...event.detail, via: 'cli', operator: operator() } });
  }

  async close(): Promise<void> {
    if (!this.built) return;
    // A failed build has nothing open to close, and its error was reported already.
    const services = await this.built.catch(() => undefined);
    if (!services) return;
    await services.delivery.close();
    await services.store.close();
  }
}
