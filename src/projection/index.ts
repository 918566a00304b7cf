/**
 * What other capabilities use of the projection: the projector's fold of records into read-model
 * rows and its row writes (the verifier replays the ledger through them), and the read models'
 * tables and columns (the verifier and the provenance queries read them).
 */
export { foldBatch, historyRowsOf, type ReadModelChanges } from './read-model-changes.js';
export { loadRows, type TableNames, writeRows } from './postgres-read-models.js';
export { READ_MODEL, type ReadModelTable, type ReadModelTableName, selectList } from './read-model-schema.js';
