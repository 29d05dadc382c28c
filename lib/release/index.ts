/**
 * Releasing a prompt: the evidence behind a release, the gate, channel releases and rollbacks, canaries.
 * A version reaches a channel only with evidence (./gate.ts), unless forced with a reason (recorded loudly).
 */
export * from './evidence';
export * from './gate';
export * from './channel';
export * from './canary';
