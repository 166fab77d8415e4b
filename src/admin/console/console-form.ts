// Reading the console's forms: repeated fields (checkbox groups) stay lists, empty text is "not
// given", and an operation's field problems become the page's error summary in the admin's language.
import type { Context } from 'koa';
import type { Translate } from '../../i18n/i18n.ts';
import type { FieldProblem } from '../operations/errors.ts';

export type FormValues = Record<string, string | string[]>;

/** The posted form; nested values are dropped. */
export function readValues(ctx: Context): FormValues {
  const body = (ctx.request as { body?: unknown }).body;
  const out: FormValues = {};
  if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === 'string') out[key] = value;
      else if (Array.isArray(value)) out[key] = value.filter((v): v is string => typeof v === 'string');
    }
  }
  return out;
}

/** One text value, trimmed; undefined when empty or absent (a list posted for it: its last). */
export function text(values: FormValues, name: string): string | undefined {
  const raw = values[name];
  const value = (Array.isArray(raw) ? raw.at(-1) : raw)?.trim();
  return value ? value : undefined;
}

/** Every value of a checkbox group. */
export function list(values: FormValues, name: string): string[] {
  const raw = values[name];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) => v.trim()).filter(Boolean);
}

/** Lines of a textarea (one URL a line). */
export function lines(values: FormValues, name: string): string[] {
  return (text(values, name) ?? '').split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}

/** A checkbox: on or off (always sent, so the page's default is what the admin saw). */
export const checked = (values: FormValues, name: string): boolean => text(values, name) === 'on';

/**
 * Field problems as `{ field id: message }` for the error summary: the form's own label for the
 * field (`admin.field.<name>`), so the admin reads the field they see in their language.
 */
export function fieldErrors(problems: readonly FieldProblem[], t: Translate, fieldIds: readonly string[], fallback = 'form'): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const problem of problems) {
    const path = problem.field.split('.');
    const joined = path.slice(0, 2).join('_');
    const id = fieldIds.includes(joined) ? joined : fieldIds.includes(path[0]!) ? path[0]! : fallback;
    errors[id] ??= t('admin.errors.field_invalid', { field: t(`admin.field.${id}`) });
  }
  return errors;
}
