import type Database from 'better-sqlite3';
import type { MemberKind, OrganisationRecord, OrganisationStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { asDuplicateError } from './errors.ts';

interface Row {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export const toRecord = (row: Row): OrganisationRecord => ({ id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at });

export function createOrganisationStore(db: Database.Database): Synchronous<OrganisationStore> {
  const insert = db.prepare<Row>('INSERT INTO organisations (id, name, created_at, updated_at) VALUES (@id, @name, @created_at, @updated_at)');
  const find = db.prepare<[string], Row>('SELECT id, name, created_at, updated_at FROM organisations WHERE id = ?');
  const list = db.prepare<[], Row>('SELECT id, name, created_at, updated_at FROM organisations ORDER BY id');
  const remove = db.prepare<[string]>('DELETE FROM organisations WHERE id = ?');
  const clearMemberships = db.prepare<[string, string]>('DELETE FROM organisation_members WHERE kind = ? AND member_id = ?');
  const addMembership = db.prepare<[string, string, string]>('INSERT OR IGNORE INTO organisation_members (organisation_id, kind, member_id) VALUES (?, ?, ?)');
  const memberships = db.prepare<[string, string], { organisation_id: string }>(
    'SELECT organisation_id FROM organisation_members WHERE kind = ? AND member_id = ? ORDER BY organisation_id');
  const members = db.prepare<[string, string], { member_id: string }>(
    'SELECT DISTINCT member_id FROM organisation_members WHERE kind = ? AND organisation_id IN (SELECT value FROM json_each(?)) ORDER BY member_id');
  const setMemberships = db.transaction((kind: MemberKind, memberId: string, ids: readonly string[]) => {
    clearMemberships.run(kind, memberId);
    for (const id of ids) addMembership.run(id, kind, memberId);
  });

  return {
    create(organisation) {
      try {
        insert.run({ id: organisation.id, name: organisation.name, created_at: organisation.createdAt, updated_at: organisation.updatedAt });
      } catch (error) {
        throw asDuplicateError(error, { id: 'id' });
      }
    },
    find(id) {
      const row = find.get(id);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    remove(id) {
      // Memberships go with it (ON DELETE CASCADE).
      return remove.run(id).changes > 0;
    },
    setMemberships(kind, memberId, organisationIds) {
      // A membership of an organisation that does not exist fails the foreign key: nothing changes.
      setMemberships(kind, memberId, organisationIds);
    },
    memberships(kind, memberId) {
      return memberships.all(kind, memberId).map((row) => row.organisation_id);
    },
    members(kind, organisationIds) {
      if (!organisationIds.length) return [];
      return members.all(kind, JSON.stringify(organisationIds)).map((row) => row.member_id);
    },
  };
}
