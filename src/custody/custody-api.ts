/**
 * What custody offers the capabilities that record steps through it (EPCIS capture,
 * docs/epcis.md): the commands and their rules, the recording of steps (one instance or
 * forwarded to the partition's writer) and the HTTP side of a step's exchange. Everything else
 * in src/custody/ is its own (.dependency-cruiser.cjs, PUBLIC_APIS).
 */
export { type CustodyCommand, RuleViolation } from './custody-decider.js';
export { CustodyModule } from './custody.module.js';
export { QuantityError, toMicros } from './quantity.js';
export { Exchange, type StepExchange } from './step-capture.js';
export type { RecordedStep, StepToRecord } from './step-recorder.js';
export { STEP_RECORDING, type StepRecording } from './step-routing.js';
