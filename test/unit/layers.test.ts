// The layering rules of DESIGN.md and docs/architecture.md, checked on the source: only src/oidc
// talks to oidc-provider; factors, required actions, after-hooks and accounts never reach up into
// web/ or flows/; a factor never imports another factor; flows reach factors and required actions
// only through their registries and interfaces.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
/** The file an import names, as a path from the repository root (`src/web/render.ts`). */
const target = (file: string, spec: string) => path.normalize(path.join(path.dirname(file), spec));
const within = (resolved: string, dir: string) => resolved.startsWith(`${path.join('src', dir)}${path.sep}`);

describe('layers', () => {
  it('only src/oidc imports oidc-provider', () => {
    const offenders = sources('src').filter((f) => !f.startsWith(path.join('src', 'oidc')) && imports(f).some((spec) => spec === 'oidc-provider' || spec.startsWith('oidc-provider/')));
    expect(offenders).toEqual([]);
  });

  it('factors, required actions, after-hooks and accounts never import web/ or flows/', () => {
    const offenders = ['factors', 'actions', 'hooks', 'accounts'].flatMap((layer) => sources(path.join('src', layer)).flatMap((file) =>
      imports(file).filter((spec) => spec.startsWith('.') && ['web', 'flows'].some((up) => within(target(file, spec), up))).map((spec) => `${file} → ${spec}`)));
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
        const parts = target(file, spec).split(path.sep);
        if (parts[0] === 'src' && parts[1] === 'factors' && parts.length > 3 && parts[2] !== own && factorFolders.has(parts[2]!)) offenders.push(`${file} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('flows reach factors and required actions only through their registries and interfaces', () => {
    const allowed = new Set([path.join('src', 'factors', 'registry.ts'), path.join('src', 'factors', 'factor.ts'), path.join('src', 'actions', 'registry.ts'), path.join('src', 'actions', 'action.ts')]);
    const offenders = sources('src/flows').flatMap((file) =>
      imports(file).filter((spec) => spec.startsWith('.')).filter((spec) => {
        const resolved = target(file, spec);
        return (within(resolved, 'factors') || within(resolved, 'actions')) && !allowed.has(resolved);
      }).map((spec) => `${file} → ${spec}`));
    expect(offenders).toEqual([]);
  });

  it('a required action never imports a factor or another action', () => {
    const offenders: string[] = [];
    // An action's folder; the files beside the folders (interface, registry, shared helpers) are not actions.
    for (const file of sources('src/actions').filter((f) => f.split(path.sep).length > 3)) {
      const own = file.split(path.sep)[2]!;
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const resolved = target(file, spec);
        const parts = resolved.split(path.sep);
        const factorFile = within(resolved, 'factors') && !/^(factor|registry)\.ts$/.test(parts.slice(2).join(path.sep));
        const otherAction = within(resolved, 'actions') && parts.length > 3 && parts[2] !== own;
        if (factorFile || otherAction) offenders.push(`${file} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
