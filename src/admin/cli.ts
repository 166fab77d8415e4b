// Entry point of the `poortwachter` administration CLI (bin/poortwachter.js, `npm run cli --`).
// See src/admin/cli/run.ts for the commands.
import { runCli } from './cli/run.ts';

// stdout carries the result (and with --json nothing but one JSON document); libraries that print
// notices with console.log/info (oidc-provider does) are sent to stderr instead.
console.log = console.info = (...parts: unknown[]) => console.error(...parts);

// `poortwachter client list | head` closes the pipe early: that is the reader's choice, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
