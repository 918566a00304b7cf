import type { DataSource } from 'typeorm';
import type { Hash } from '../hashing.js';
import { LedgerIntegrityError } from '../ledger-errors.js';
import type { GenesisPins } from '../ports.js';

/** Genesis pins in the append-only ledger_genesis table (migrations/). */
export class PostgresGenesisPins implements GenesisPins {
  constructor(private readonly dataSource: DataSource) {}

  async get(ledgerId: string, partition: number): Promise<Hash | null> {
    const rows: { genesis_hash: string }[] = await this.dataSource.query(
      'SELECT genesis_hash FROM ledger_genesis WHERE ledger_id = $1 AND partition = $2',
      [ledgerId, partition],
    );
    return rows[0]?.genesis_hash ?? null;
  }

  async pin(ledgerId: string, partition: number, hash: Hash): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO ledger_genesis (ledger_id, partition, genesis_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [ledgerId, partition, hash],
    );
    const pinned = await this.get(ledgerId, partition);
    if (pinned !== hash) {
      throw new LedgerIntegrityError(`partition ${partition}: genesis ${hash} differs from the pinned ${String(pinned)}`);
    }
  }
}
