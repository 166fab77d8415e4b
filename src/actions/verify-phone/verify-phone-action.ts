// "Bevestig uw mobiele nummer" (Mijn Therapie Dossier: verify the phone by an SMS code): a code to
// the number on the account proves the patient has that phone; the number is then marked verified.
// Only the number the practice registered is used: typing a new one here would bind a new
// authenticator without the binding rule, so that stays with setting up SMS. Due when stored on
// the account; done in this flow once the code was entered.
import type { RequiredAction } from '../action.ts';
import { storedOnAccount } from '../action.ts';
import { addressCheckPage } from '../address-check.ts';

const ID = 'verify-phone';

export const verifyPhoneAction: RequiredAction = {
  id: ID,
  scope: 'login',
  ...storedOnAccount(ID),
  page: addressCheckPage({
    id: ID,
    address: 'phone',
    async send({ services, policy, to, code, t, minutes }) {
      const body = t('verify-phone.message', { portal: policy.name, code, minutes });
      await services.delivery.sendSms({ to, body, ...(policy.smsSender ? { from: policy.smsSender } : {}) });
    },
    async verified(services, account) {
      await services.accounts.update(account, { phoneVerified: true });
    },
  }),
};
