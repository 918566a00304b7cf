import { describe, expect, it } from '@jest/globals';
import jsqr from 'jsqr';
import { qrCodeSvg } from './qr-code.js';

// jsqr is CommonJS whose exports object is the function and carries it as `default` too.
const jsQR = jsqr.default;

/** The SVG's modules drawn into an RGBA image (`scale` pixels a module) for a QR decoder to read. */
function rasterise(svg: string, scale = 4): { data: Uint8ClampedArray; width: number } {
  const side = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const width = side * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  const path = /<path fill="#000" d="([^"]*)"/.exec(svg)?.[1] ?? '';
  for (const [, x, y, run] of path.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let px = Number(x) * scale; px < (Number(x) + Number(run)) * scale; px++) {
      for (let py = Number(y) * scale; py < (Number(y) + 1) * scale; py++)
        data.fill(0, (py * width + px) * 4, (py * width + px) * 4 + 3);
    }
  }
  return { data, width };
}

describe('the QR code of a Digital Link', () => {
  it('scans back to the URI it was made of, with a quiet zone and the URI as its accessible title', () => {
    const uri = 'https://id.example.com/01/09506000134352/21/SN%2F0001';
    const svg = qrCodeSvg(uri);
    const { data, width } = rasterise(svg);
    expect(jsQR(data, width, width)?.data).toBe(uri);
    expect(svg).toContain(`<title id="t">QR code of ${uri}</title>`);
    // Four light modules on every side: no dark module starts before x or y = 4.
    expect([...svg.matchAll(/M(\d+) (\d+)/g)].every(([, x, y]) => Number(x) >= 4 && Number(y) >= 4)).toBe(true);
  });

  it('escapes the URI in its title', () => {
    expect(qrCodeSvg('https://x.example/01/1/21/<a>&"')).toContain(
      '<title id="t">QR code of https://x.example/01/1/21/&lt;a&gt;&amp;&quot;</title>',
    );
  });
});
