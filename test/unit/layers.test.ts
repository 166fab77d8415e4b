// The layering rules of DESIGN.md, checked on the source: only src/oidc talks to oidc-provider, a
// factor never imports another factor, and flows never import a particular factor.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);

describe('layers', () => {
  it('only src/oidc imports oidc-provider', () => {
    const offenders = sources('src').filter((f) => !f.startsWith(path.join('src', 'oidc')) && imports(f).includes('oidc-provider'));
    expect(offenders).toEqual([]);
  });

  it('no factor imports another factor', () => {
    // A factor's folder holds its `*-factor.ts`; other folders and files there are shared helpers.
    const factorFolders = new Set(sources('src/factors').filter((f) => f.endsWith('-factor.ts')).map((f) => f.split(path.sep)[2]!));
    const offenders: string[] = [];
    for (const file of sources('src/factors')) {
      const own = file.split(path.sep)[2]!;
      if (!factorFolders.has(own)) continue;
      for (const spec of imports(file)) {
        const target = path.normalize(path.join(path.dirname(file), spec));
        const parts = target.split(path.sep);
        if (parts[0] === 'src' && parts[1] === 'factors' && parts.length > 3 && parts[2] !== own && factorFolders.has(parts[2]!)) offenders.push(`${file} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('flows reach factors only through the registry and the Factor interface', () => {
    const offenders = sources('src/flows').flatMap((file) =>
      imports(file).filter((spec) => spec.includes('/factors/') && !/factors\/(registry|factor)\.ts$/.test(spec)).map((spec) => `${file} → ${spec}`));
    expect(offenders).toEqual([]);
  });
});
