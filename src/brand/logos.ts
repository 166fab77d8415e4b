// Uploaded logos, kept in the settings sub-store under their content hash (`brand-logo:<sha256>`):
// content-addressed records need no store-port change, work the same on SQLite and MongoDB, and
// two portals with the same logo share one record. The client metadata names the file
// (`brand_logo: <sha256>.<ext>`); the bytes never travel with the client (oidc-provider loads
// client metadata on every request).
import { createHash } from 'node:crypto';
import type { Store } from '../store/port.ts';
import { inspectLogo, LOGO_TYPES, type LogoInspection } from './logo-image.ts';
import { LOGO_FILE } from './brand.ts';

interface StoredLogo {
  mediaType: string;
  width: number;
  height: number;
  base64: string;
}

export interface Logo {
  file: string;
  mediaType: string;
  bytes: Buffer;
}

const key = (sha256: string) => `brand-logo:${sha256}`;

export class Logos {
  constructor(private readonly store: Store) {}

  /** Checks the bytes; a refused image is reported, nothing is stored. */
  static inspect(bytes: Buffer): LogoInspection & { file?: string } {
    const inspection = inspectLogo(bytes);
    if (!inspection.ok) return inspection;
    return { ...inspection, file: `${createHash('sha256').update(bytes).digest('hex')}.${inspection.ext}` };
  }

  /** Stores an inspected logo; true when this call created the record (false: it existed). */
  async save(bytes: Buffer): Promise<{ file: string; created: boolean }> {
    const inspection = inspectLogo(bytes);
    if (!inspection.ok) throw new TypeError(`refused logo: ${inspection.problem}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const record: StoredLogo = { mediaType: inspection.mediaType, width: inspection.width, height: inspection.height, base64: bytes.toString('base64') };
    const created = await this.store.settings.putIfAbsent(key(sha256), record);
    return { file: `${sha256}.${inspection.ext}`, created };
  }

  /** The logo a `<sha256>.<ext>` names, when stored with that type and the bytes still hash to it. */
  async find(file: string): Promise<Logo | undefined> {
    if (!LOGO_FILE.test(file)) return undefined;
    const [sha256 = '', ext = ''] = file.split('.');
    const stored = await this.store.settings.get<StoredLogo>(key(sha256));
    if (!stored || stored.mediaType !== LOGO_TYPES[ext]) return undefined;
    const bytes = Buffer.from(stored.base64, 'base64');
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) return undefined;
    return { file, mediaType: stored.mediaType, bytes };
  }

  /** Removes a logo no client names any more. */
  async removeUnused(file: string): Promise<boolean> {
    if (!LOGO_FILE.test(file)) return false;
    const clients = await this.store.clients.list();
    if (clients.some((c) => c.metadata.brand_logo === file)) return false;
    await this.store.settings.put(key(file.split('.')[0]!), undefined);
    return true;
  }
}
