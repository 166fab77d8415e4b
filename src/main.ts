// Entry point of `npm start`. It only checks the Node version and then loads the server: the
// application is imported dynamically, so an unsupported Node gets one clear line instead of a
// segfault in the SQLite driver (a static import would load everything before this check runs).
import { unsupportedNodeMessage } from './node-version.js';

const problem = unsupportedNodeMessage(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
const { serve } = await import('./serve.ts');
await serve();
