// The invitations service (accounts/invitations.ts) as the admin operations see it
// (operations/context.ts `Invitations`): the CLI, the console and the API invite through it. A
// refusal becomes an OperationError (a password already set: 409; the mail failed: 502), never a 500.
import type { Invitations as InvitationService } from '../accounts/invitations.ts';
import { InvitationError } from '../accounts/invitations.ts';
import type { Invitations } from './operations/context.ts';
import { OperationError } from './operations/errors.ts';

export function invitationsForAdmin(service: InvitationService): Invitations {
  return {
    async invite(account, portal, who) {
      try {
        const policy = await service.portal(portal?.clientId);
        const earlier = await service.hasInvitation(account.id);
        return await service.send(account, policy, { actor: who.actor, ip: who.ip ?? null, userAgent: who.userAgent ?? null }, earlier ? 'resent' : 'sent');
      } catch (error) {
        if (!(error instanceof InvitationError)) throw error;
        if (error.problem === 'mail_failed') throw new OperationError('delivery_failed', `the invitation could not be mailed; the earlier link (if any) still works`);
        if (error.problem === 'unknown_portal') throw new OperationError('invalid_input', error.message, [{ field: 'client_id', message: 'unknown portal' }]);
        throw new OperationError('conflict', error.message);
      }
    },
  };
}

