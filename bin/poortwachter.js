#!/usr/bin/env node
// Launcher for the administration CLI (src/admin/cli.ts). The project runs its TypeScript with
// tsx instead of compiling it, so this starts Node with tsx's loader, resolved from this package
// (not from the caller's directory), and passes through arguments, stdio and the exit code.
// It first refuses a Node that is too old (the CLI would crash in the SQLite driver), and the CLI
// reads `.env` from the current directory when there is one, as `npm start` does.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unsupportedNodeMessage } from '../src/node-version.js';

const problem = unsupportedNodeMessage(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}

const tsx = import.meta.resolve('tsx');
const cli = fileURLToPath(new URL('../src/admin/cli.ts', import.meta.url));

// Node's own .env parser (variables already set win). Not --env-file-if-exists: it prints
// ".env not found" on every run without one, and the CLI's stderr is for its own messages.
const envFile = existsSync('.env') ? ['--env-file=.env'] : [];
const child = spawn(process.execPath, [...envFile, '--import', tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });

// Ctrl-C reaches the child too (same process group); the child decides how to stop, we wait.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}

child.on('error', (error) => {
  console.error(`poortwachter: could not start the CLI: ${error.message}`);
  process.exitCode = 1;
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15) : 1);
});
