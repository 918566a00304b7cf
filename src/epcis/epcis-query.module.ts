import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EpcisEventQueries } from './epcis-event-queries.js';
import { EpcisQueryController } from './epcis-query.controller.js';

/** EPCIS 2.0 query (docs/epcis-query.md): GET /events and GET /events/{eventID}, from the read models. */
@Module({
  controllers: [EpcisQueryController],
  providers: [
    {
      provide: EpcisEventQueries,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new EpcisEventQueries(dataSource),
    },
  ],
})
export class EpcisQueryModule {}
