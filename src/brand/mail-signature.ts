// How a mail to a patient is signed. Patients know their portal, not the software behind it
// (issue 12): a mail about a portal's flow is signed by that portal, any other mail (the account
// pages, the CLI, a lock) by the deployment's brand (BRAND_NAME), which is "Poortwachter" only
// when the operator left it so.
import type { Translate } from '../i18n/i18n.ts';

export function mailSignature(t: Translate, deploymentName: string, portal?: string): string {
  return t('brand.signature', { portal: portal ?? deploymentName });
}
