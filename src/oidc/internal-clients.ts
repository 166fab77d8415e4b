// Poortwachter's own clients (the account pages' and the admin console's): the server writes them
// at every start, so nobody administers them, and no patient sees them among "their portals".
import { ACCOUNT_CLIENT_ID } from './sessions.ts';
import { ADMIN_CLIENT_ID } from './admin-client.ts';

const INTERNAL = new Set<string>([ACCOUNT_CLIENT_ID, ADMIN_CLIENT_ID]);

export function isInternalClient(clientId: string): boolean {
  return INTERNAL.has(clientId);
}
