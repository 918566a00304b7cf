import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { systemClock } from '../ledger/ports.js';
import { CustodyController } from './custody.controller.js';
import { ProductsController } from './products.controller.js';
import { ShipmentsController } from './shipments.controller.js';
import { StepCapture } from './step-capture.js';
import { StepRecorder } from './step-recorder.js';
import { Forwarder, FORWARDED_STEPS } from '../cluster/forwarding.js';
import { forwardingAddress } from '../cluster/cluster.module.js';
import { WriterPlacement } from '../cluster/writer-placement.js';
import { ForwardedStepsController } from './forwarded-steps.controller.js';
import { type ForwardAnswer, STEP_RECORDING, type StepRecording, StepRouter } from './step-routing.js';

/**
 * Recording custody steps: the routes of products (commission, decommission), shipments (create,
 * pack, unpack, dispatch, receive) and custody (handover, inspect, transform, batch), and the
 * recording they share. The LedgerWriter comes from the global LedgerModule.
 */
@Module({
  controllers: [ProductsController, ShipmentsController, CustodyController, ForwardedStepsController],
  providers: [
    {
      provide: StepRecorder,
      inject: [LedgerWriter, CONFIG],
      useFactory: (writer: LedgerWriter, config: CustodianConfig) =>
        new StepRecorder(writer, {
          occurredAtSkewMs: config.custody.occurredAtSkewMs,
          clock: systemClock,
          newEventId: randomUUID,
        }),
    },
    {
      // One instance records every step itself; with several, each where its partition's writer runs.
      provide: STEP_RECORDING,
      inject: [CONFIG, StepRecorder, LedgerWriter, WriterPlacement, Forwarder],
      useFactory: (
        config: CustodianConfig,
        recorder: StepRecorder,
        writer: LedgerWriter,
        placement: WriterPlacement,
        forwarder: Forwarder,
      ): StepRecording =>
        config.cluster.enabled
          ? new StepRouter(
              recorder,
              {
                writesHere: (partition) => writer.describe()[partition]?.state === 'open',
                addressOf: async (partition, refresh) => (await placement.owners(refresh)).addressOf(partition),
              },
              (address, request) => forwarder.send(address, FORWARDED_STEPS, request) as Promise<ForwardAnswer>,
              {
                partitions: config.ledger.partitions,
                self: forwardingAddress(config),
                placementWaitMs: Math.max(10_000, 3 * config.cluster.sessionTimeoutMs),
              },
            )
          : recorder,
    },
    StepCapture,
  ],
  exports: [STEP_RECORDING],
})
export class CustodyModule {}
