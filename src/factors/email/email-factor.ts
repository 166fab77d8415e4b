// Codes by e-mail, the patient portal's "sessiecode". RFC 8176 registers no amr value for a code
// sent by e-mail (`otp` suggests a generator, `sms`/`tel` a phone), so this factor reports the
// value `email`, which portals should read as "a code sent to the account's e-mail address".
// Strength 1: NIST SP 800-63B-4 does not accept e-mail as an out-of-band authenticator, so a
// password plus this code stays below AAL2 (acr low-mfa, see oidc/assurance.ts).
import { deliveredCodeFactor } from '../delivered-code.ts';
import { codeMail } from './code-mail.ts';
import { mailSender } from '../../brand/brand.ts';

export const emailFactor = deliveredCodeFactor({
  id: 'email',
  amr: ['email'],
  strength: 1,
  view: 'factors/email',
  address: 'email',
  async send(message) {
    const from = mailSender(message.policy.brand, message.services.config.mail.from);
    await message.services.delivery.sendMail({ ...codeMail(message), ...(from ? { from } : {}) });
  },
});
