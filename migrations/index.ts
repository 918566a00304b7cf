import { LedgerGenesis1764115200000 } from './1764115200000-ledger-genesis.js';
import { ReadModels1764144000000 } from './1764144000000-read-models.js';
import { LotQuantities1764900000000 } from './1764900000000-lot-quantities.js';
import { LedgerSnapshots1765000000000 } from './1765000000000-ledger-snapshots.js';
import { PartyRegistry1766000000000 } from './1766000000000-party-registry.js';
import { EpcisEvents1767000000000 } from './1767000000000-epcis-events.js';
import { EpcisCaptureJobs1767100000000 } from './1767100000000-epcis-capture-jobs.js';

/** Every migration, in order. Listed explicitly so that builds and tests load the same set. */
export const MIGRATIONS = [
  LedgerGenesis1764115200000,
  ReadModels1764144000000,
  LotQuantities1764900000000,
  LedgerSnapshots1765000000000,
  PartyRegistry1766000000000,
  EpcisEvents1767000000000,
  EpcisCaptureJobs1767100000000,
];
