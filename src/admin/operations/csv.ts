// CSV as RFC 4180 (CRLF, every field quoted when it holds a quote, comma or line break, quotes
// doubled), safe to open in a spreadsheet: a cell that starts with = + - @ (or a tab or carriage
// return) is prefixed with ' so it is shown as text, never run as a formula (OWASP "CSV injection").
// Spreadsheets in a Dutch locale split on `;` as well, and may split on tabs: a formula character
// after one of those (or a comma) inside a cell is neutralised the same way (review of the console).
const FORMULA_START = /^[=+\-@\t\r]/;
const FORMULA_AFTER_SEPARATOR = /([;,\t])(\s*)(?=[=+\-@])/g;

export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  text = text.replace(FORMULA_AFTER_SEPARATOR, "$1$2'");
  return /[",\r\n']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
