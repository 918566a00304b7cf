import { encode } from 'uqr';

/** The quiet zone around a QR code, in modules: ISO/IEC 18004 asks for 4. */
const QUIET_ZONE = 4;

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

/**
 * A QR code of a product's Digital Link URI as SVG, for an operator to print on a pack: error
 * correction M (15 % of the code may be lost to a scuff or a crease), dark modules drawn
 * as one path of row runs (a 1-module square each), the URI as the image's accessible title.
 * The SVG has no size of its own beyond its viewBox, so it prints at any size.
 */
export function qrCodeSvg(uri: string): string {
  const { size, data } = encode(uri, { ecc: 'M', border: 0 });
  const runs: string[] = [];
  for (const [y, row] of data.entries()) {
    for (let x = 0; x < size; x++) {
      if (!row[x]) continue;
      const start = x;
      while (x < size && row[x]) x++;
      runs.push(`M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${x - start}v1h-${x - start}z`);
    }
  }
  const side = size + 2 * QUIET_ZONE;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" role="img" aria-labelledby="t" shape-rendering="crispEdges">` +
    `<title id="t">QR code of ${escapeXml(uri)}</title>` +
    `<rect width="${side}" height="${side}" fill="#fff"/><path fill="#000" d="${runs.join('')}"/></svg>`
  );
}
