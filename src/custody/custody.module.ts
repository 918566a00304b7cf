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

/**
 * Recording custody steps: the routes of products (commission, decommission), shipments (create,
 * pack, unpack, dispatch, receive) and custody (handover, inspect, transform, batch), and the
 * recording they share. The LedgerWriter comes from the global LedgerModule.
 */
@Module({
  controllers: [ProductsController, ShipmentsController, CustodyController],
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
    StepCapture,
  ],
})
export class CustodyModule {}
