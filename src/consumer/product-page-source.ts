import type { ProvenanceQueries } from '../provenance/provenance-queries.js';
import type { PartyRegistry } from './party-registry.js';
import type { PageInput, PageStep, ProductPageModel } from './product-page.js';
import { glnsOf } from './step-view.js';

/** Steps a page shows at most (the history route's largest page); the evidence holds them all. */
export const MAX_PAGE_STEPS = 1000;
/**
 * Inputs a page names at most, nearest first: each has its own page. Two full transformations'
 * worth (a transformation takes up to 100 inputs), so the direct inputs the browser holds to the
 * records are all there.
 */
const MAX_PAGE_INPUTS = 200;

type PageContent = Pick<ProductPageModel, 'product' | 'steps' | 'stepsOmitted' | 'inputs' | 'directory'>;

/** What a product's page shows, read from the read models (provenance) and the party registry. */
export class ProductPageSource {
  constructor(
    private readonly queries: ProvenanceQueries,
    private readonly registry: PartyRegistry,
  ) {}

  /** The page's content; undefined when the read models know no such product. */
  async content(subject: string): Promise<PageContent | undefined> {
    const row = await this.queries.product(subject);
    if (!row) return undefined;
    const history = await this.queries.history(subject, { limit: MAX_PAGE_STEPS + 1 });
    const steps: PageStep[] = history.slice(0, MAX_PAGE_STEPS).map((step) => ({
      eventType: step.eventType,
      occurredAt: step.occurredAt,
      payload: step.payload,
      via: step.via,
      hash: step.ledger.hash,
      sequence: step.ledger.sequence,
    }));
    const traced = (await this.queries.backward(subject)).slice(0, MAX_PAGE_INPUTS);
    const inputs: PageInput[] = await Promise.all(
      traced.map(async (input) => {
        const id = String(input.id);
        const name = (await this.queries.product(id))?.name;
        return { id, depth: Number(input.depth), name: typeof name === 'string' ? name : null };
      }),
    );
    const text = (value: unknown) => (typeof value === 'string' ? value : null);
    const product = {
      gtin: String(row.gtin),
      serial: text(row.serial),
      lot: text(row.lot),
      name: text(row.name),
      status: String(row.status),
      reason: text(row.reason),
      holder: String(row.holder),
      location: String(row.location),
      quantity: typeof row.quantity === 'number' ? row.quantity : null,
      uom: text(row.uom),
    };
    const directory = await this.registry.directory([product.holder, product.location, ...steps.flatMap(glnsOf)]);
    return { product, steps, stepsOmitted: history.length > MAX_PAGE_STEPS, inputs, directory };
  }
}
