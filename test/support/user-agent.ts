// A minimal browser for integration tests: keeps cookies (respecting their path), follows
// redirects only when asked, and fills the hosted forms as a person would. The relying party
// side is always openid-client; this only plays the patient's browser without JavaScript.
export interface Page {
  url: string;
  status: number;
  html: string;
  location?: string;
  headers?: Headers;
}

export interface FormFound {
  action: string;
  fields: Record<string, string>;
}

interface Cookie {
  value: string;
  path: string;
}

export class UserAgent {
  private readonly cookies = new Map<string, Cookie>();
  acceptLanguage = 'nl';
  /** Sent with every request, e.g. the X-Forwarded-For a proxy would add. */
  extraHeaders: Record<string, string> = {};
  /** Every cookie value the server ever set, also those deleted since (log tests scan for them). */
  readonly cookieValuesSeen = new Set<string>();
  /** The HTTP client; a test may swap in one that holds a request open (shutdown tests). */
  fetch: typeof fetch = (input, init) => fetch(input, init);

  private cookieHeader(url: URL): string {
    return [...this.cookies.entries()]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const pathAttr = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='));
      const path = pathAttr ? pathAttr.slice(5) : '/';
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else {
        this.cookies.set(name, { value, path });
        this.cookieValuesSeen.add(value);
      }
    }
  }

  hasCookie(name: string): boolean {
    return this.cookies.has(name);
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }

  setCookie(name: string, value: string, path = '/'): void {
    this.cookies.set(name, { value, path });
  }

  deleteCookie(name: string): void {
    this.cookies.delete(name);
  }

  async request(url: string, init: { method?: string; body?: string; contentType?: string } = {}): Promise<Page> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...this.extraHeaders, 'accept-language': this.acceptLanguage };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/x-www-form-urlencoded';
    const response = await this.fetch(target, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    this.remember(response);
    const location = response.headers.get('location') ?? undefined;
    return { url: target.href, status: response.status, html: await response.text(), location: location ? new URL(location, target).href : undefined, headers: response.headers };
  }

  /** Follows redirects until a page renders, or until a URL starting with `stopAt` is reached. */
  async follow(start: Page | string, stopAt?: string): Promise<Page> {
    let page = typeof start === 'string' ? await this.request(start) : start;
    for (let hops = 0; page.location && hops < 15; hops += 1) {
      if (stopAt && page.location.startsWith(stopAt)) return { url: page.location, status: 200, html: '' };
      page = await this.request(page.location);
    }
    return page;
  }

  /** GET (following redirects). */
  open(url: string, stopAt?: string): Promise<Page> {
    return this.follow(url, stopAt);
  }

  /** Submits the form whose action contains `actionPart`, with `values` over the form's own fields. */
  async submit(page: Page, actionPart: string, values: Record<string, string> = {}, stopAt?: string): Promise<Page> {
    const form = findForm(page, actionPart);
    const body = new URLSearchParams({ ...form.fields, ...values }).toString();
    const response = await this.request(form.action, { method: 'POST', body });
    return this.follow(response, stopAt);
  }
}

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

function attr(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decode(match[1]!) : undefined;
}

export function findForm(page: Page, actionPart: string): FormFound {
  const forms = [...page.html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]);
  const form = forms.find((f) => (attr(f.slice(0, f.indexOf('>') + 1), 'action') ?? '').includes(actionPart));
  if (!form) throw new Error(`no form with action containing ${actionPart} on ${page.url} (status ${page.status}):\n${page.html.slice(0, 3000)}`);
  const open = form.slice(0, form.indexOf('>') + 1);
  const fields: Record<string, string> = {};
  for (const [input] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = attr(input, 'name');
    const type = attr(input, 'type');
    if (!name || type === 'checkbox' || type === 'radio') continue;
    fields[name] = attr(input, 'value') ?? '';
  }
  return { action: new URL(attr(open, 'action')!, page.url).href, fields };
}

/** Visible text of a page, tags stripped: for assertions on what a person reads. */
export function textOf(page: Page): string {
  return decode(page.html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}
