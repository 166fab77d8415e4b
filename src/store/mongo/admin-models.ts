// Collections of administration: organisations, their members (accounts and portals) and admin roles.
import { Schema, type Connection } from 'mongoose';
import { SCHEMA_OPTIONS } from './common.ts';

export interface OrganisationDoc {
  _id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface OrganisationMemberDoc {
  /** `${kind}:${memberId}:${organisationId}`: one document per membership, so adding one is one upsert. */
  _id: string;
  organisationId: string;
  kind: string;
  memberId: string;
}

export interface AdminGrantDoc {
  /** The account id: one grant per account. */
  _id: string;
  role: string;
  organisations: string[];
  grantedAt: Date;
  grantedBy: string;
}

const text = { type: String, required: true } as const;
const date = { type: Date, required: true } as const;

const organisationSchema = new Schema<OrganisationDoc>({ _id: { type: String }, name: text, createdAt: date, updatedAt: date }, SCHEMA_OPTIONS);

const organisationMemberSchema = new Schema<OrganisationMemberDoc>({ _id: { type: String }, organisationId: text, kind: text, memberId: text }, SCHEMA_OPTIONS);
organisationMemberSchema.index({ kind: 1, memberId: 1 });
organisationMemberSchema.index({ organisationId: 1, kind: 1 });

const adminGrantSchema = new Schema<AdminGrantDoc>({
  _id: { type: String },
  role: text,
  organisations: { type: [String], default: [] },
  grantedAt: date,
  grantedBy: text,
}, SCHEMA_OPTIONS);
adminGrantSchema.index({ grantedAt: 1, _id: 1 });

export function createAdminModels(connection: Connection) {
  return {
    organisations: connection.model<OrganisationDoc>('Organisation', organisationSchema, 'organisations'),
    organisationMembers: connection.model<OrganisationMemberDoc>('OrganisationMember', organisationMemberSchema, 'organisation_members'),
    adminGrants: connection.model<AdminGrantDoc>('AdminGrant', adminGrantSchema, 'admin_grants'),
  };
}
