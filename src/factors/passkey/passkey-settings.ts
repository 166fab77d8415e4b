// The passkeys part of /account: the list (name, synced or bound to one device, added, last used),
// renaming and removing one. Adding one is the factor's enrolment (the account page's "add a
// method"). Only the account's own passkeys can be renamed or removed; whether removing the last
// one is allowed is the account page's rule (`removesLast` tells it), not this part's.
import type { FactorContext, FactorSettings, FactorSettingsResult, Form } from '../factor.ts';
import type { Language, Translate } from '../../i18n/i18n.ts';
import { Passkeys } from './passkeys.ts';
import { normalisePasskeyName } from './passkey-name.ts';

const VIEW = 'factors/passkey-settings';
const formats = new Map<Language, Intl.DateTimeFormat>();

/** "3 maart 2025", as the patient's calendar shows it (Dutch local time). */
function formatDate(at: number, lang: Language): string {
  let format = formats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: 'Europe/Amsterdam', day: 'numeric', month: 'long', year: 'numeric' });
    formats.set(lang, format);
  }
  return format.format(at);
}

async function page(ctx: FactorContext, extra: Omit<FactorSettingsResult, 'view'> & { errors?: Record<string, string>; editing?: string } = {}): Promise<FactorSettingsResult> {
  const { account } = ctx;
  const summaries = account ? await Passkeys.from(ctx.services).credentials.summaries(account.id) : [];
  const passkeys = summaries.map((p) => ({
    id: p.id,
    name: p.name,
    kind: ctx.t(p.synced ? 'passkey.settings.synced' : 'passkey.settings.device_bound'),
    created: ctx.t('passkey.settings.created', { date: formatDate(p.createdAt, ctx.lang) }),
    lastUsed: p.lastUsedAt === null ? ctx.t('passkey.settings.never_used') : ctx.t('passkey.settings.last_used', { date: formatDate(p.lastUsedAt, ctx.lang) }),
  }));
  const { errors, editing, ...result } = extra;
  return { ...result, view: VIEW, locals: { passkeys, notice: extra.notice, errors: errors ?? {}, editing } };
}

async function rename(ctx: FactorContext, form: Form): Promise<FactorSettingsResult> {
  const id = form.passkey ?? '';
  const name = normalisePasskeyName(form.passkey_name);
  if (!name.ok || !name.name) return page(ctx, { status: 400, editing: id, errors: { passkey_name: name.ok ? 'passkey.errors.name_required' : 'passkey.errors.name_too_long' } });
  const renamed = ctx.account ? await Passkeys.from(ctx.services).credentials.rename(ctx.account.id, id, name.name) : false;
  if (!renamed) return page(ctx, { status: 404, errors: { passkeys: 'passkey.errors.not_found' } });
  return page(ctx, { notice: ctx.t('passkey.settings.renamed', { name: name.name }) });
}

async function remove(ctx: FactorContext, form: Form): Promise<FactorSettingsResult> {
  const id = form.passkey ?? '';
  const passkeys = Passkeys.from(ctx.services).credentials;
  const found = ctx.account ? (await passkeys.summaries(ctx.account.id)).find((p) => p.id === id) : undefined;
  if (!ctx.account || !found || !(await passkeys.remove(ctx.account.id, id))) return page(ctx, { status: 404, errors: { passkeys: 'passkey.errors.not_found' } });
  await ctx.services.audit.record({ type: 'passkey.removed', accountId: ctx.account.id, ip: ctx.ip, detail: { passkey: id } });
  return page(ctx, { removed: true, notice: ctx.t('passkey.settings.removed', { name: found.name }) });
}

export const passkeySettings: FactorSettings = {
  async summary(services, account, t: Translate) {
    const count = (await Passkeys.from(services).credentials.list(account.id)).length;
    return { text: t('passkey.settings.summary', { count }), actions: [{ name: 'view', label: t('passkey.settings.manage') }] };
  },

  async handle(ctx, action, form) {
    if (action === 'rename') return rename(ctx, form);
    if (action === 'remove') return remove(ctx, form);
    if (action === 'edit') return page(ctx, { editing: form.passkey });
    return page(ctx);
  },

  async removesLast(ctx, action, form) {
    if (action !== 'remove' || !ctx.account) return false;
    const own = await Passkeys.from(ctx.services).credentials.list(ctx.account.id);
    return own.length === 1 && own[0]!.record.id === form.passkey;
  },
};
