// WCAG 2.x contrast ratio (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio). A portal's colour
// is the background of white button text and the colour of links on white, so one ratio against
// white decides both.

/** WCAG AA for normal text. */
export const AA_CONTRAST = 4.5;

const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

export function isHexColour(value: string): boolean {
  return HEX_COLOUR.test(value);
}

function channel(hex: string, offset: number): number {
  const c = parseInt(hex.slice(offset, offset + 2), 16) / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Relative luminance of `#rrggbb`. (WCAG 2.1 writes 0.03928; 0.04045 is sRGB's own value: no 8-bit colour lies between.) */
export function relativeLuminance(hex: string): number {
  if (!isHexColour(hex)) throw new TypeError(`not a #rrggbb colour: ${hex}`);
  return 0.2126 * channel(hex, 1) + 0.7152 * channel(hex, 3) + 0.0722 * channel(hex, 5);
}

/** (L1 + 0.05) / (L2 + 0.05), the lighter colour on top: 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [la, lb] = [relativeLuminance(a), relativeLuminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

export function contrastAgainstWhite(hex: string): number {
  return contrastRatio(hex, '#ffffff');
}
