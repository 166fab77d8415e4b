// What a logo upload is, judged by its bytes, never by its file name: PNG, JPEG or WebP by their
// magic bytes, with the dimensions read from the header. SVG is refused: it is a document that can
// carry scripts and external references, and no well-kept sanitiser is installed here (DOMPurify
// needs a DOM; refusing is the safe default). A raster image served as its own type with
// `nosniff` cannot run anything, whatever else its bytes hold.

/** Logos appear at a few dozen pixels high; 200 kB is plenty for that and keeps pages fast. */
export const LOGO_MAX_BYTES = 200 * 1024;
/** Smaller is unreadable; larger is a photo, not a logo (and costs every page). */
export const LOGO_MIN_SIDE = 16;
export const LOGO_MAX_SIDE = 2048;

export type LogoType = { mediaType: 'image/png'; ext: 'png' } | { mediaType: 'image/jpeg'; ext: 'jpg' } | { mediaType: 'image/webp'; ext: 'webp' };

export const LOGO_TYPES: Record<string, LogoType['mediaType']> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp' };

export type LogoProblem = 'empty' | 'too-large' | 'svg' | 'not-an-image' | 'unreadable' | 'dimensions';

export type LogoInspection = ({ ok: true; width: number; height: number } & LogoType) | { ok: false; problem: LogoProblem };

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) => signature.every((b, i) => bytes[at + i] === b);
const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

function pngSize(b: Buffer): [number, number] | undefined {
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

/** Walks the JPEG segments to the first frame header (SOF0..SOF15 but DHT, JPG, DAC). */
function jpegSize(b: Buffer): [number, number] | undefined {
  let at = 2;
  while (at + 9 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1]!;
    if (marker === 0xff) { at += 1; continue; }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    const length = b.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return [b.readUInt16BE(at + 7), b.readUInt16BE(at + 5)];
    if (length < 2) return undefined;
    at += 2 + length;
  }
  return undefined;
}

function webpSize(b: Buffer): [number, number] | undefined {
  if (b.length < 30) return undefined;
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && startsWith(b, [0x9d, 0x01, 0x2a], 23)) return [b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff];
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = b.readUInt32LE(21);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X') return [b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1];
  return undefined;
}

function looksLikeSvg(b: Buffer): boolean {
  const head = b.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart().toLowerCase();
  return head.startsWith('<') && /<svg[\s>]/.test(head);
}

export function inspectLogo(bytes: Buffer): LogoInspection {
  if (bytes.length === 0) return { ok: false, problem: 'empty' };
  if (bytes.length > LOGO_MAX_BYTES) return { ok: false, problem: 'too-large' };
  let type: LogoType;
  let size: [number, number] | undefined;
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    type = { mediaType: 'image/png', ext: 'png' };
    size = pngSize(bytes);
  } else if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    type = { mediaType: 'image/jpeg', ext: 'jpg' };
    size = jpegSize(bytes);
  } else if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') {
    type = { mediaType: 'image/webp', ext: 'webp' };
    size = webpSize(bytes);
  } else {
    return { ok: false, problem: looksLikeSvg(bytes) ? 'svg' : 'not-an-image' };
  }
  if (!size) return { ok: false, problem: 'unreadable' };
  const [width, height] = size;
  const sane = (side: number) => side >= LOGO_MIN_SIDE && side <= LOGO_MAX_SIDE;
  if (!sane(width) || !sane(height)) return { ok: false, problem: 'dimensions' };
  return { ok: true, ...type, width, height };
}

/** One sentence per problem, for the operator (CLI). */
export function logoProblemText(problem: LogoProblem): string {
  switch (problem) {
    case 'empty': return 'the logo file is empty';
    case 'too-large': return `the logo is larger than ${LOGO_MAX_BYTES / 1024} kB`;
    case 'svg': return 'SVG logos are refused (an SVG can carry scripts and no SVG sanitiser is installed): upload a PNG, JPEG or WebP';
    case 'not-an-image': return 'the logo is not a PNG, JPEG or WebP image (judged by its contents, not its name)';
    case 'unreadable': return 'the logo image is damaged: its size cannot be read';
    case 'dimensions': return `the logo must be between ${LOGO_MIN_SIDE} and ${LOGO_MAX_SIDE} pixels wide and high`;
  }
}
