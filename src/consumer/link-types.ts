/**
 * What a GS1 Digital Link URI resolves to (docs/consumer-page.md, GS1-Conformant Resolver
 * standard): a `linkType` query parameter names the link wanted; without one, the Accept header
 * decides between the page, for a browser, and the provenance JSON, for an API client.
 *
 *   gs1:pip             the product information page (text/html): the journey, verified in the browser
 *   gs1:traceability    the provenance JSON: a redirect to the history route of the API
 *   custodian:evidence  the product's evidence bundle (application/json), what the page checks
 *   custodian:qr        a QR code of the Digital Link URI (image/svg+xml), to print
 *
 * GS1's vocabulary has no link type for an evidence bundle or for the code's own image, so those
 * two are Custodian's own (a CURIE of its own prefix, as the resolver standard allows).
 */
export const LINK_TYPES = ['gs1:pip', 'gs1:traceability', 'custodian:evidence', 'custodian:qr'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

/** The quality (RFC 9110 §12.5.1) an Accept header gives a media type: its best matching range, 0 when none matches. */
export function acceptQuality(accept: string, mediaType: string): number {
  const [type] = mediaType.split('/');
  let best = { specificity: -1, quality: 0 };
  for (const range of accept.split(',')) {
    const [name = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const specificity = name === mediaType ? 2 : name === `${type ?? ''}/*` ? 1 : name === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    best = { specificity, quality: Number.isFinite(quality) ? Math.min(Math.max(quality, 0), 1) : 0 };
  }
  return best.quality;
}

/**
 * The link a request asks for: its linkType when it names one; else the JSON for a client that
 * prefers JSON to HTML, and the page for everyone else (a browser, a scanner app, `*∕*`): the
 * page is the default link, as a consumer's phone must land on it.
 */
export function requestedLink(linkType: LinkType | undefined, accept: string | undefined): LinkType {
  if (linkType) return linkType;
  if (!accept) return 'gs1:pip';
  return acceptQuality(accept, 'application/json') > acceptQuality(accept, 'text/html') ? 'gs1:traceability' : 'gs1:pip';
}
