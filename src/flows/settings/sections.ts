// The account console's sections, in the order of its menu (Minddistrict's "Instellingen"). Most
// are parts of the overview page (`#anchor`); a section with a page of its own links there. The
// passkey section is built with the passkey factor (issue 10) on its own page, /account/factor/passkey:
// its menu entry appears once that factor is registered, so the menu never links to nothing.
import { findFactor } from '../../factors/registry.ts';

export interface ConsoleSection {
  id: string;
  /** Locale key of its heading and menu entry. */
  label: string;
  href: string;
}

const SECTIONS: ReadonlyArray<ConsoleSection & { shown?: () => boolean }> = [
  { id: 'gegevens', label: 'settings.sections.details', href: '#gegevens' },
  // The password change page is the password lifecycle's (issue 8): /account/password.
  { id: 'wachtwoord', label: 'settings.sections.password', href: '#wachtwoord' },
  { id: 'tweestaps', label: 'settings.sections.two_step', href: '#tweestaps' },
  { id: 'passkeys', label: 'settings.sections.passkeys', href: '/account/factor/passkey', shown: () => findFactor('passkey') !== undefined },
  { id: 'apparaten', label: 'settings.sections.devices', href: '#apparaten' },
  { id: 'portalen', label: 'settings.sections.portals', href: '#portalen' },
  { id: 'activiteit', label: 'settings.sections.activity', href: '#activiteit' },
];

export function consoleSections(): ConsoleSection[] {
  return SECTIONS.filter((s) => s.shown?.() ?? true).map(({ id, label, href }) => ({ id, label, href }));
}
