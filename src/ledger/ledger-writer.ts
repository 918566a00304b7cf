import { canonicalBytes, CanonicalJsonError } from './canonical-json.js';
import type { ChainHead } from './chain-verifier.js';
import type { CheckpointSigner } from './checkpoint-note.js';
import type { Hash } from './hashing.js';
import { AppendRejectedError } from './ledger-errors.js';
import { type AppendReceipt, type AppendRequest } from './ledger-record.js';
import { PartitionWriter, type WriterStats } from './partition-writer.js';
import { partitionOf } from './partitioning.js';
import type { Clock, GenesisPins, PartitionLog } from './ports.js';
import { ENTITY_ID, EVENT_TYPE, TIMESTAMP, UUID } from './record-codec.js';

export interface LedgerWriterOptions {
  readonly ledgerId: string;
  readonly partitions: number;
  readonly signer: CheckpointSigner;
  readonly pins: GenesisPins;
  readonly clock: Clock;
  readonly maxBatch: number;
  /** Largest canonical payload accepted, in bytes. */
  readonly maxPayloadBytes: number;
  readonly openPartition: (partition: number) => PartitionLog;
  readonly configuredGenesis?: ReadonlyMap<number, Hash>;
  readonly newEventId?: () => string;
}

/** Writers for every partition of one ledger; routes each append by its first entity. */
export class LedgerWriter {
  private readonly writers: PartitionWriter[];

  constructor(private readonly options: LedgerWriterOptions) {
    this.writers = Array.from(
      { length: options.partitions },
      (_, partition) =>
        new PartitionWriter({
          ledgerId: options.ledgerId,
          partition,
          partitions: options.partitions,
          signer: options.signer,
          log: options.openPartition(partition),
          pins: options.pins,
          clock: options.clock,
          maxBatch: options.maxBatch,
          configuredGenesis: options.configuredGenesis?.get(partition),
          newEventId: options.newEventId,
        }),
    );
  }

  async start(): Promise<ChainHead[]> {
    return Promise.all(this.writers.map((writer) => writer.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.writers.map((writer) => writer.close()));
  }

  heads(): ChainHead[] {
    return this.writers.map((writer) => writer.currentHead());
  }

  statuses(): string[] {
    return this.writers.map((writer) => writer.status);
  }

  /** Batches and appends over all partitions. */
  stats(): { batches: number; appends: number } {
    return this.writers.reduce((sum, w) => ({ batches: sum.batches + w.stats.batches, appends: sum.appends + w.stats.appends }), {
      batches: 0,
      appends: 0,
    });
  }

  partitionStats(): WriterStats[] {
    return this.writers.map((writer) => writer.stats);
  }

  /** Checks the request, then resolves with its receipt once Kafka committed it. */
  append(request: AppendRequest): Promise<AppendReceipt> {
    let partition: number;
    try {
      partition = this.validate(request);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new AppendRejectedError(String(error)));
    }
    return (this.writers[partition] as PartitionWriter).append(request);
  }

  private validate(request: AppendRequest): number {
    const reject = (problem: string): never => {
      throw new AppendRejectedError(problem);
    };
    if (!UUID.test(request.eventId)) reject('eventId must be a lowercase UUID');
    if (!EVENT_TYPE.test(request.eventType) || request.eventType.startsWith('ledger.')) {
      reject(`eventType ${JSON.stringify(request.eventType)} is malformed or reserved for the ledger`);
    }
    if (request.entityIds.length === 0) reject('a record must touch at least one entity');
    if (new Set(request.entityIds).size !== request.entityIds.length) reject('an entity is named twice');
    for (const id of request.entityIds) if (!ENTITY_ID.test(id)) reject(`entity id ${JSON.stringify(id)} is malformed`);
    if (!TIMESTAMP.test(request.occurredAt) || Number.isNaN(Date.parse(request.occurredAt))) {
      reject('occurredAt must be an RFC 3339 time with offset');
    }
    if (request.actor.length === 0 || request.actor.length > 200) reject('actor must be 1 to 200 characters');
    try {
      const size = canonicalBytes(request.payload).length;
      if (size > this.options.maxPayloadBytes)
        reject(`the payload is ${size} bytes; at most ${this.options.maxPayloadBytes} are allowed`);
    } catch (error) {
      if (error instanceof CanonicalJsonError) reject(`payload ${error.message}`);
      throw error;
    }
    const partitions = new Set(request.entityIds.map((id) => partitionOf(id, this.options.partitions)));
    if (partitions.size > 1) {
      reject(`the entities map to ${partitions.size} different partitions; one record's entities must share a partition`);
    }
    return partitionOf(request.entityIds[0] as string, this.options.partitions);
  }
}
