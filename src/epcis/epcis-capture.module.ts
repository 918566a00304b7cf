import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CustodyModule } from '../custody/custody-api.js';
import { STEP_RECORDING, type StepRecording } from '../custody/custody-api.js';
import type { CustodianConfig } from '../infrastructure/config/config.js';
import { CONFIG } from '../infrastructure/config/config.module.js';
import { EPCIS_CAPTURE, EpcisCaptureController } from './epcis-capture.controller.js';
import { CaptureJobs, EpcisCapture, HeldEventIds } from './epcis-capture.js';

/** EPCIS 2.0 capture (docs/epcis.md): documents recorded through the custody steps' recording. */
@Module({
  imports: [CustodyModule],
  controllers: [EpcisCaptureController],
  providers: [
    { provide: CaptureJobs, inject: [getDataSourceToken()], useFactory: (dataSource: DataSource) => new CaptureJobs(dataSource) },
    {
      provide: HeldEventIds,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new HeldEventIds(dataSource),
    },
    {
      provide: EPCIS_CAPTURE,
      inject: [STEP_RECORDING, CaptureJobs, HeldEventIds, CONFIG],
      useFactory: (recording: StepRecording, jobs: CaptureJobs, eventIds: HeldEventIds, config: CustodianConfig) =>
        new EpcisCapture(recording, jobs, eventIds, {
          maxRecords: config.custody.maxBatchSteps,
          maxRecordBytes: config.ledger.maxBatchBytes,
          answerWithinMs: config.epcis.captureAnswerWithinMs,
        }),
    },
  ],
})
export class EpcisCaptureModule {}
