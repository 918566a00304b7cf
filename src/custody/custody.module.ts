import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { LedgerWriter } from '../ledger/ledger-writer.js';
import { systemClock } from '../ledger/ports.js';
import { CustodyController } from './custody.controller.js';
import { StepCapture } from './step-capture.js';
import { StepRecorder } from './step-recorder.js';

/** Custody steps (the LedgerWriter comes from the global LedgerModule) (handover, inspect, transform, batch capture) and the recording all step routes share. */
@Module({
  controllers: [CustodyController],
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
  exports: [StepCapture],
})
export class CustodyModule {}
