// What someone copying DATA_DIR would have: every byte of the store's files (the database, its
// write-ahead log and shared memory), and which named secrets occur in them.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

export async function storeBytes(dataDir: string): Promise<Buffer> {
  const files = (await readdir(dataDir)).filter((f) => f.startsWith('poortwachter.sqlite'));
  return Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(dataDir, f)))));
}

/** The names of the secrets among `named` that occur in `bytes`, once per occurring value. */
export function leaked(bytes: Buffer, named: Record<string, string[]>): string[] {
  return Object.entries(named).flatMap(([name, values]) => values.filter((v) => v.length >= 8 && bytes.includes(v)).map(() => name));
}
