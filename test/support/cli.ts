// The CLI as `poortwachter ...` runs it, in-process, with only the environment given (NODE_ENV test,
// logging silent) and `input` on stdin: what the CLI tests and the export/import tests share.
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../src/admin/cli/run.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as `poortwachter ...` runs it, with only the environment given. */
export async function cli(args: string[], env: Record<string, string>, input = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) => new Writable({
    write(chunk: Buffer, _encoding, done) {
      append(chunk.toString());
      done();
    },
  });
  const code = await runCli(args, {
    stdin: Readable.from([input]),
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
  });
  return { code, stdout, stderr };
}
