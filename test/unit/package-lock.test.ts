// A fresh clone must stay clean after the README's `npm install`: npm 11 rewrites a lock whose
// entries lack `hasInstallScript` for packages with install scripts (better-sqlite3 did). Checked
// offline against the installed packages, which is what npm looks at.
import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  hasInstallScript?: boolean;
  link?: boolean;
}

describe('package-lock.json', () => {
  it('marks every installed package that has an install script as npm writes it', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (!where.startsWith('node_modules/') || entry.link) continue;
      const manifest = `${where}/package.json`;
      if (!existsSync(manifest)) continue; // optional packages for other platforms
      const { scripts = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> };
      const hasScript = ['preinstall', 'install', 'postinstall'].some((name) => name in scripts) || existsSync(`${where}/binding.gyp`);
      if (hasScript !== (entry.hasInstallScript === true)) missing.push(where);
    }
    expect(missing).toEqual([]);
  });
});
