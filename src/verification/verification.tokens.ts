/** Injection tokens of the verification module (a file of their own: no import cycles). */
export const ATTESTATION_SIGNER = Symbol('ATTESTATION_SIGNER');
export const LEDGER_SOURCE = Symbol('LEDGER_SOURCE');
export const WITNESS = Symbol('WITNESS');
export const LEDGER_FOLLOWER = Symbol('LEDGER_FOLLOWER');
