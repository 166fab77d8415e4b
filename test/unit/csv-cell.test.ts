// The audit export's cells (admin/operations/csv.ts): RFC 4180 quoting, and no cell a spreadsheet
// would run as a formula — at its start, nor after a `;`, `,` or tab inside it (Dutch Excel splits on `;`).
import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from '../../src/admin/operations/csv.ts';

describe('csvCell', () => {
  it('quotes what RFC 4180 asks and leaves plain text alone', () => {
    expect(csvCell('gewoon')).toBe('gewoon');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('zei "ja"')).toBe('"zei ""ja"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell({ reason: 'x' })).toBe('"{""reason"":""x""}"');
  });

  it('neutralises a formula at the start and after a separator inside the cell', () => {
    expect(csvCell('=1+1')).toBe(`"'=1+1"`);
    expect(csvCell('x;=1+1;')).toBe(`"x;'=1+1;"`);
    expect(csvCell('x; @SUM(A1)')).toBe(`"x; '@SUM(A1)"`);
    expect(csvCell('a,-2')).toBe(`"a,'-2"`);
    expect(csvCell('Mozilla/5.0 (X11; Linux x86_64)')).toBe('Mozilla/5.0 (X11; Linux x86_64)');
    expect(csvRow(['x;=HYPERLINK("http://evil")', 'b'])).toBe(`"x;'=HYPERLINK(""http://evil"")",b\r\n`);
  });
});
