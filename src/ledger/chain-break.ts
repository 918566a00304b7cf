/** What a verifier reports where a partition stops verifying (docs/ledger-format.md §7, "findings"). */
export type BreakKind =
  | 'malformed' // not a well-formed, canonical ledger record
  | 'foreign' // a record of another ledger or partition
  | 'duplicate' // a copy of a record the chain already holds
  | 'injected' // a record no signed checkpoint covers although later ones exist
  | 'modified' // a record whose content does not hash to what the chain links to
  | 'missing' // a record the chain links to is absent
  | 'out-of-order' // chain order and offset order disagree
  | 'sequence' // sequence numbers are not dense
  | 'entity-link' // an entity's previous-record hash is not that entity's last record
  | 'checkpoint' // bad signature, or size/root/head not those of the records before it
  | 'genesis' // the first record is not the pinned genesis
  | 'uncovered'; // records at the end that no signed checkpoint covers

/** The first place where the partition stops verifying, and what was expected there. */
export interface ChainBreak {
  readonly kind: BreakKind;
  readonly partition: number;
  readonly offset: string;
  readonly sequence: number | null;
  readonly entityId?: string;
  readonly expected?: string;
  readonly found?: string;
  readonly message: string;
}

/** A break as a step of docs/ledger-format.md §7 finds it; the verifier adds the partition. */
export type Finding = Omit<ChainBreak, 'partition'>;
