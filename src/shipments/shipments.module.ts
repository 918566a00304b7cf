import { Module } from '@nestjs/common';
import { CustodyModule } from '../custody/custody.module.js';
import { ShipmentsController } from './shipments.controller.js';

/** Shipments (SSCC): creation, packing and unpacking (aggregation), dispatch and receipt. */
@Module({ imports: [CustodyModule], controllers: [ShipmentsController] })
export class ShipmentsModule {}
