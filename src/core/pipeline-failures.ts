// How the pipeline tells a failure to retry from one to give up (why: pipeline.ts), and the errors a
// batch given up is rejected with.
import type { AssetState } from './state.js'

/**
 * A batch given up without retrying: a processor, a stage or a synchronous hook threw (a bug: the
 * same input would throw again), or the state kept changing under every attempt.
 */
export class ProcessingFault extends Error {
  constructor(message: string, options?: ErrorOptions) { super(message, options); this.name = 'ProcessingFault' }
}

/** What `submit` rejects with for fixes left unprocessed because the pipeline was closed during an outage. */
export class PipelineClosed extends Error {
  constructor() { super('the pipeline was closed before these fixes could be processed (they are stored, not applied to the state)'); this.name = 'PipelineClosed' }
}

/**
 * Errors a port throws that no retry cures: a programming error (a state that does not serialize,
 * a corrupt stored document) or a statement the database refuses for what it says (SQLSTATE
 * classes 22 data, 23 integrity, 42 syntax or access). Retrying them would hold the asset's queue,
 * and through the backlog every publisher, for good.
 */
export function incurable(err: unknown): boolean {
  if (err instanceof ProcessingFault || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return true
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code)
}

export const messageOf = (err: unknown) => err instanceof Error ? err.message : String(err)

/** A batch being retried after an I/O failure. */
export interface Retry {
  /** the state an attempt wrote whose outbox is still to be stored: later attempts only store it */
  committed: AssetState | undefined
}
