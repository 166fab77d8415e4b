// Codes by SMS (amr `sms`, RFC 8176). With a password it reaches AAL2: NIST SP 800-63B-4 accepts
// SMS as a restricted out-of-band authenticator. The sender is the portal's own alphanumeric id
// when it has one (ZINN's patients know "ZINNZORG"), otherwise the configured TWILIO_FROM.
import { deliveredCodeFactor } from '../delivered-code.ts';

export const smsFactor = deliveredCodeFactor({
  id: 'sms',
  amr: ['sms'],
  strength: 2,
  view: 'factors/sms',
  address: 'phone',
  mobileOnly: true,
  async send({ services, policy, to, code, mode, t, minutes }) {
    // A portal's own word for the code ("verificatiecode") where it has one.
    const { codeName } = policy.brand;
    const named = mode === 'challenge' && codeName !== 'code';
    const body = named
      ? t('sms.message.challenge_named', { portal: policy.brand.name, code, minutes, word: t(`brand.code_name.${codeName}.noun`) })
      : t(`sms.message.${mode}`, { portal: policy.brand.name, code, minutes });
    await services.delivery.sendSms({ to, body, ...(policy.smsSender ? { from: policy.smsSender } : {}) });
  },
});
