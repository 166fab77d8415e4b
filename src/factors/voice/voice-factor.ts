// Codes read aloud in a phone call (amr `tel`, RFC 8176): for patients who cannot read an SMS or
// only have a landline. Same strength as SMS. An account that proved its mobile number for SMS
// may also be called on it, when calls can be placed at all (TWILIO_FROM must be a number).
import { buildCodeCallTwiml } from '../../delivery/index.ts';
import { deliveredCodeFactor } from '../delivered-code.ts';

export const voiceFactor = deliveredCodeFactor({
  id: 'voice',
  amr: ['tel'],
  strength: 2,
  view: 'factors/voice',
  address: 'phone',
  credentialTypes: (services) => (services.delivery.voiceAvailable ? ['voice', 'sms'] : ['voice']),
  async send({ services, policy, to, code, mode, lang, t, minutes }) {
    const twiml = buildCodeCallTwiml({
      intro: t(`voice.message.${mode}`, { portal: policy.name }),
      code,
      outro: t('voice.message.outro', { minutes }),
      language: lang === 'en' ? 'en-GB' : 'nl-NL',
    });
    await services.delivery.placeCall({ to, twiml });
  },
});
