// A named pipe for tests that need a file whose open blocks (a stand-in for a frozen file system).
import { execFileSync } from 'node:child_process';

export function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}
