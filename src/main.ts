// Entry point of `npm start`. It only checks the Node version and then loads the server: the
// application is imported dynamically, so an unsupported Node gets one clear line instead of a
// segfault in the SQLite driver (a static import would load everything before this check runs).
import { existsSync } from 'node:fs';
import { unsupportedNodeMessage } from './node-version.js';

const problem = unsupportedNodeMessage(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
// `.env` when there is one (variables already set win), read here rather than with Node's
// `--env-file-if-exists`, which prints ".env not found" on every start without one.
if (existsSync('.env')) process.loadEnvFile('.env');
const { serve } = await import('./serve.ts');
await serve();
