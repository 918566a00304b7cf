import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ProvenanceController } from './provenance.controller.js';
import { ProvenanceQueries } from './provenance-queries.js';

/** Provenance lookups from the read models (docs/api.md, "Provenance"). */
@Module({
  controllers: [ProvenanceController],
  providers: [
    {
      provide: ProvenanceQueries,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new ProvenanceQueries(dataSource),
    },
  ],
  exports: [ProvenanceQueries],
})
export class ProvenanceModule {}
