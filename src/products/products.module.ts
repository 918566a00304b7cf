import { Module } from '@nestjs/common';
import { CustodyModule } from '../custody/custody.module.js';
import { ProductsController } from './products.controller.js';

/** Products: commissioning and decommissioning by GS1 identity (SGTIN or LGTIN). */
@Module({ imports: [CustodyModule], controllers: [ProductsController] })
export class ProductsModule {}
