// JSON helpers shared by both implementations. Records are plain JSON data; normalising them on
// the way in makes both back ends return exactly what the other would (no `undefined` members,
// Dates as ISO strings), so the layers above cannot come to depend on one back end's quirks.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON text with the keys of every object sorted. Compare-and-swap compares stored text, so two
 * copies of the same data must always serialise identically, whatever order their keys were
 * added in.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, member: unknown) => {
    if (!isPlainObject(member)) return member;
    return Object.fromEntries(Object.keys(member).sort().map((k) => [k, member[k]]));
  });
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return text;
}

export function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (!isPlainObject(value)) throw new TypeError('stored JSON is not an object');
  return value;
}

export function parseJsonStringArray(text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError('stored JSON is not an array of strings');
  }
  return value;
}

/** The value as it will read back after a trip through JSON. */
export function toJsonObject(value: Record<string, unknown>): Record<string, unknown> {
  return parseJsonObject(JSON.stringify(value));
}
