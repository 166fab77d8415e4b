// Two audiences: people get short sentences and aligned tables, scripts (`--json`) get exactly
// one JSON document on stdout and nothing else. Every command hands both forms to `result`, so
// the two cannot drift apart.
export interface Output {
  readonly json: boolean;
  /** Prints `human` (lines) or, with --json, `data` as JSON. */
  result(human: string | string[], data: unknown): void;
  /** A remark for people (hints, warnings): stderr, so it never mixes into piped or JSON output. */
  note(line: string): void;
  /** One line of a data stream (e.g. `audit export`: JSON lines, the same with or without --json). */
  line(text: string): void;
  /** Like `line`, but waits while stdout is full: a long stream (`db export`) is never buffered whole. */
  streamLine(text: string): Promise<void>;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(human, data) {
      if (json) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else stdout.write(`${(Array.isArray(human) ? human : [human]).join('\n')}\n`);
    },
    note(line) {
      stderr.write(`${line}\n`);
    },
    line(text) {
      stdout.write(`${text}\n`);
    },
    streamLine(text) {
      if (stdout.write(`${text}\n`)) return Promise.resolve();
      return new Promise((resolve) => stdout.once('drain', () => resolve()));
    },
  };
}

/** Left-aligned columns separated by two spaces; empty cells show as `-`. */
export function table(headers: string[], rows: string[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === '' ? '-' : cell)))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => [...(row[column] ?? '')].length)));
  // Padding by code points, not UTF-16 units, so names like `Patiënt` in decomposed form align.
  const pad = (cell: string, width: number) => cell + ' '.repeat(Math.max(0, width - [...cell].length));
  return cells.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : pad(cell, widths[column]!))).join('  ').trimEnd());
}

/** Epoch milliseconds as `2026-05-04 13:07 UTC`: unambiguous for operators in any time zone. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
