// Mail bodies in HTML, from the pug views under views/mail/. Kept beside the mailer rather than in
// web/: factors, accounts and actions write mail, and none of them may reach into the web layer.
import pug from 'pug';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const VIEWS_DIR = fileURLToPath(new URL('../../views', import.meta.url));

const compiled = new Map<string, pug.compileTemplate>();

/** Renders the mail view `view` (e.g. `mail/code`) with `locals` to an HTML string; compiled once. */
export function renderMail(view: string, locals: Record<string, unknown>): string {
  let template = compiled.get(view);
  if (!template) {
    template = pug.compileFile(path.join(VIEWS_DIR, `${view}.pug`), { basedir: VIEWS_DIR });
    compiled.set(view, template);
  }
  return template(locals);
}
