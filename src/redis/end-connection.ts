// Ending a Redis connection during an outage without waiting ~10 s or crashing: shared by the
// broker's connections (src/broker/cluster.ts) and the bus (src/bus/bus.ts).
import type { Redis } from 'ioredis'

/** Ends a connection that is not ready at once: ioredis' disconnect() alone does not, see endConnection. */
function abortConnection(conn: Redis): void {
  if (conn.status === 'end') return
  // between two attempts ('reconnecting') there is no stream whose close would end it: the attempt
  // it waits for is started and, disconnect() having cleared it, given up before it begins
  if (conn.status === 'reconnecting') conn.connect().catch(() => undefined)
  conn.disconnect()
}

/**
 * Ends an ioredis connection, whatever its state, and resolves once it has (its 'end'); never
 * rejects. A ready connection quits (its pending replies first), or is disconnected should its quit
 * fail. One that is not (a Redis outage) is disconnected at once: a quit would wait in the offline
 * queue until maxRetriesPerRequest gives up (~10 s) and then reject, and disconnect() alone leaves a
 * 'reconnecting' connection in that state for good, its 'end' never emitted and its commands never
 * answered. Its pending commands are rejected ("Connection is closed.").
 */
export function endConnection(conn: Redis, quit = () => conn.quit()): Promise<void> {
  if (conn.status === 'end') return Promise.resolve()
  const ended = new Promise<void>((resolve) => conn.once('end', () => resolve()))
  if (conn.status === 'ready') quit().catch(() => abortConnection(conn))
  else abortConnection(conn)
  return ended
}
