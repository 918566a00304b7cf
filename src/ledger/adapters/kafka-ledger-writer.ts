import type { Kafka } from 'kafkajs';
import type { CheckpointSigner } from '../checkpoint-note.js';
import type { Hash } from '../hashing.js';
import type { EntityStateModel } from '../ledger-record.js';
import { LedgerWriter } from '../ledger-writer.js';
import type { WriterStatus } from '../partition-writer.js';
import type { SnapshotEvent } from '../partition-recovery.js';
import { type Clock, type GenesisPins, type SnapshotStore, systemClock } from '../ports.js';
import { KafkaPartitionLog, writerTransactionalId } from './kafka-partition-log.js';

export interface KafkaLedgerWriterOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly ledgerId: string;
  readonly partitions: number;
  readonly signer: CheckpointSigner;
  readonly pins: GenesisPins;
  readonly maxBatch?: number;
  readonly maxBatchBytes?: number;
  readonly maxPayloadBytes?: number;
  readonly configuredGenesis?: ReadonlyMap<number, Hash>;
  readonly clock?: Clock;
  readonly stateModel?: EntityStateModel;
  readonly reclaimDelayMs?: { readonly initial: number; readonly max: number };
  readonly reclaimWhenFenced?: boolean;
  readonly onStatus?: (status: WriterStatus) => void;
  readonly snapshots?: SnapshotStore;
  readonly snapshotRecords?: number;
  readonly snapshotIntervalMs?: number;
  readonly stateCacheEntries?: number;
  readonly onSnapshot?: (event: SnapshotEvent) => void;
}

/** A LedgerWriter whose partitions are partitions of a Kafka topic, one fenced writer each. */
export function createKafkaLedgerWriter(options: KafkaLedgerWriterOptions): LedgerWriter {
  const { kafka, topic, ledgerId } = options;
  return new LedgerWriter({
    ledgerId,
    partitions: options.partitions,
    signer: options.signer,
    pins: options.pins,
    clock: options.clock ?? systemClock,
    maxBatch: options.maxBatch ?? 500,
    maxBatchBytes: options.maxBatchBytes,
    maxPayloadBytes: options.maxPayloadBytes ?? 65_536,
    configuredGenesis: options.configuredGenesis,
    stateModel: options.stateModel,
    reclaimDelayMs: options.reclaimDelayMs,
    reclaimWhenFenced: options.reclaimWhenFenced,
    onStatus: options.onStatus,
    snapshots: options.snapshots,
    snapshotRecords: options.snapshotRecords,
    snapshotIntervalMs: options.snapshotIntervalMs,
    stateCacheEntries: options.stateCacheEntries,
    onSnapshot: options.onSnapshot,
    openPartition: (partition) => new KafkaPartitionLog(kafka, topic, partition, writerTransactionalId(ledgerId, partition)),
  });
}
