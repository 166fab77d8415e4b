// Collections of the account lifecycle: password profiles and the portals each account signs in to.
import { Schema, type Connection } from 'mongoose';
import { SCHEMA_OPTIONS } from './common.ts';

export interface PasswordProfileDoc {
  /** The profile's name. */
  _id: string;
  minLength: number;
  maxLength: number;
  require: string[];
  specials: string | null;
  blocklist: boolean;
  notNames: boolean;
  history: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface AccountPortalDoc {
  /** `${accountId}:${clientId}`: one document per pair, so recording a login is one upsert. */
  _id: string;
  accountId: string;
  clientId: string;
  firstLoginAt: Date;
  lastLoginAt: Date;
}

const text = { type: String } as const;
const date = { type: Date, required: true } as const;
const count = { type: Number, required: true } as const;
const flag = { type: Boolean, required: true } as const;

const passwordProfileSchema = new Schema<PasswordProfileDoc>({
  _id: text,
  minLength: count,
  maxLength: count,
  require: { type: [String], default: [] },
  specials: { type: String, default: null },
  blocklist: flag,
  notNames: flag,
  history: count,
  createdAt: date,
  updatedAt: date,
}, SCHEMA_OPTIONS);

const accountPortalSchema = new Schema<AccountPortalDoc>({
  _id: text,
  accountId: text,
  clientId: text,
  firstLoginAt: date,
  lastLoginAt: date,
}, SCHEMA_OPTIONS);
accountPortalSchema.index({ accountId: 1, firstLoginAt: 1 });

export function createLifecycleModels(connection: Connection) {
  return {
    passwordProfiles: connection.model<PasswordProfileDoc>('PasswordProfile', passwordProfileSchema, 'password_profiles'),
    accountPortals: connection.model<AccountPortalDoc>('AccountPortal', accountPortalSchema, 'account_portals'),
  };
}
