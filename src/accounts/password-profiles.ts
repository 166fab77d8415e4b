// Named password profiles in the store, the built-in default beside them, and which rules apply
// where: at a password change the account meets the strictest combination of the default and the
// profiles of every portal it signs in to (and the one it is at); at login the typed password is
// checked against that portal's own profile only (accounts/password-lifecycle.ts).
import type { Clock } from '../clock.ts';
import type { PasswordProfileRecord, Store } from '../store/port.ts';
import {
  CHARACTER_CLASSES,
  DEFAULT_PROFILE_NAME,
  PROFILE_LIMITS,
  combineProfiles,
  defaultProfile,
  validateProfile,
  type CharacterClass,
  type PasswordProfile,
  type PasswordRules,
  type ProfileProblem,
} from './password-profile.ts';

/** The client metadata property naming a portal's profile. */
export const PASSWORD_PROFILE_METADATA = 'password_profile';

export function profileNameOf(metadata: Record<string, unknown>): string | undefined {
  const name = metadata[PASSWORD_PROFILE_METADATA];
  return typeof name === 'string' && name !== DEFAULT_PROFILE_NAME ? name : undefined;
}

export class ProfileRejectedError extends Error {
  constructor(readonly problems: ProfileProblem[]) {
    super(`password profile rejected: ${problems.join(', ')}`);
    this.name = 'ProfileRejectedError';
  }
}

export class ProfileInUseError extends Error {
  constructor(readonly profile: string, readonly clientIds: string[]) {
    super(`password profile ${profile} is used by ${clientIds.join(', ')}`);
    this.name = 'ProfileInUseError';
  }
}

export class UnknownProfileError extends Error {
  constructor(readonly profile: string) {
    super(`no password profile ${profile}`);
    this.name = 'UnknownProfileError';
  }
}

function toProfile(record: PasswordProfileRecord): PasswordProfile {
  return {
    name: record.name,
    minLength: record.minLength,
    maxLength: record.maxLength,
    require: record.require.filter((c): c is CharacterClass => (CHARACTER_CLASSES as readonly string[]).includes(c)),
    specials: record.specials,
    blocklist: record.blocklist,
    notNames: record.notNames,
    history: record.history,
  };
}

export interface StoredProfile extends PasswordProfile {
  builtIn: boolean;
  createdAt: number | null;
  updatedAt: number | null;
}

export class PasswordProfiles {
  private readonly builtIn: PasswordProfile;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    lengths: { minLength: number; maxLength: number },
  ) {
    this.builtIn = defaultProfile(lengths);
  }

  get default(): PasswordProfile {
    return this.builtIn;
  }

  async list(): Promise<StoredProfile[]> {
    const stored = await this.store.passwordProfiles.list();
    return [
      { ...this.builtIn, builtIn: true, createdAt: null, updatedAt: null },
      ...stored.map((record) => ({ ...toProfile(record), builtIn: false, createdAt: record.createdAt, updatedAt: record.updatedAt })),
    ];
  }

  /** The named profile; `default` is the built-in one. */
  async find(name: string): Promise<PasswordProfile | undefined> {
    if (name === DEFAULT_PROFILE_NAME) return this.builtIn;
    const record = await this.store.passwordProfiles.find(name);
    return record && toProfile(record);
  }

  async add(profile: PasswordProfile): Promise<PasswordProfile> {
    const problems = validateProfile(profile);
    if (problems.length) throw new ProfileRejectedError(problems);
    if (await this.store.passwordProfiles.find(profile.name)) throw new ProfileRejectedError(['name_taken']);
    const now = this.clock.now();
    await this.store.passwordProfiles.put({ ...profile, require: [...profile.require], createdAt: now, updatedAt: now });
    return profile;
  }

  async update(name: string, changes: Partial<Omit<PasswordProfile, 'name'>>): Promise<PasswordProfile> {
    if (name === DEFAULT_PROFILE_NAME) throw new ProfileRejectedError(['name_reserved']);
    const record = await this.store.passwordProfiles.find(name);
    if (!record) throw new UnknownProfileError(name);
    const next: PasswordProfile = { ...toProfile(record), ...changes, name };
    const problems = validateProfile(next);
    if (problems.length) throw new ProfileRejectedError(problems);
    await this.store.passwordProfiles.put({ ...next, require: [...next.require], createdAt: record.createdAt, updatedAt: this.clock.now() });
    return next;
  }

  /** Refused while a portal names the profile: its patients would silently fall back to the default. */
  async remove(name: string): Promise<void> {
    if (name === DEFAULT_PROFILE_NAME) throw new ProfileRejectedError(['name_reserved']);
    const users = await this.clientsUsing(name);
    if (users.length) throw new ProfileInUseError(name, users);
    if (!(await this.store.passwordProfiles.remove(name))) throw new UnknownProfileError(name);
  }

  async clientsUsing(name: string): Promise<string[]> {
    const clients = await this.store.clients.list();
    return clients.filter((c) => profileNameOf(c.metadata) === name).map((c) => c.clientId);
  }

  /** The profile the portal names, or undefined when it names none (or one that is gone). */
  async ofPortal(clientId: string | null | undefined): Promise<PasswordProfile | undefined> {
    if (!clientId) return undefined;
    const client = await this.store.clients.find(clientId);
    const name = client && profileNameOf(client.metadata);
    return name === undefined ? undefined : this.find(name);
  }

  /**
   * What a new password of the account must meet: the default, the profiles of the portals it
   * completed a login at, and the one of `clientId` (the portal it is at now, which may be its
   * first visit).
   */
  async rulesForAccount(accountId: string, clientId?: string | null): Promise<PasswordRules> {
    const portals = (await this.store.accountPortals.listByAccount(accountId)).map((p) => p.clientId);
    const ids = [...new Set([...portals, ...(clientId ? [clientId] : [])])];
    const profiles = await Promise.all(ids.map((id) => this.ofPortal(id)));
    const named = new Map(profiles.filter((p): p is PasswordProfile => p !== undefined).map((p) => [p.name, p]));
    return combineProfiles([this.builtIn, ...named.values()]);
  }

  /**
   * How many earlier hashes to keep with a password: the deepest history any profile asks for
   * (at most PROFILE_LIMITS.history.max), minus the current password itself. A profile added later
   * starts with what was kept by then.
   */
  async historyToKeep(): Promise<number> {
    const depths = (await this.store.passwordProfiles.list()).map((p) => p.history);
    return Math.max(0, Math.min(PROFILE_LIMITS.history.max, Math.max(0, ...depths)) - 1);
  }
}
