// The one list of required actions. Adding one: a folder under actions/, its view under
// views/actions/, its locale namespace, a test file and a line here. The order is the order in
// which due actions run.
import type { RequiredAction } from './action.ts';
import { enrolSecondFactorAction } from './enrol-second-factor/enrol-second-factor-action.ts';
import { showRecoveryCodesAction } from './show-recovery-codes/show-recovery-codes-action.ts';
import { updatePasswordAction } from './update-password/update-password-action.ts';
import { verifyEmailAction } from './verify-email/verify-email-action.ts';
import { verifyPhoneAction } from './verify-phone/verify-phone-action.ts';

const ACTIONS: readonly RequiredAction[] = [
  enrolSecondFactorAction,
  showRecoveryCodesAction,
  updatePasswordAction,
  verifyEmailAction,
  verifyPhoneAction,
];

export function allActions(): readonly RequiredAction[] {
  return ACTIONS;
}

export function findAction(id: string): RequiredAction | undefined {
  return ACTIONS.find((a) => a.id === id);
}
