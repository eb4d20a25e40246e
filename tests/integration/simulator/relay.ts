// A TCP relay in front of a real broker, for the simulator suites: counts the sockets (how many at
// once, how many in all) and can cut every open connection, as a network failure or a broker
// restart would (no DISCONNECT, in-flight PUBACKs never arrive). It can also hold new connections
// (an outage of known length: the devices' next attempts hang until release(), then go through).
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface Relay {
  url: string
  stats: { total: number, open: number, maxOpen: number }
  /** destroys every open connection on both sides */
  cut(): void
  /** from now on new connections wait, their bytes kept, until release() */
  hold(): void
  /** connects the held connections to the broker, and lets new ones through again */
  release(): void
  close(): Promise<void>
}

export async function tcpRelay(targetPort: number): Promise<Relay> {
  const stats = { total: 0, open: 0, maxOpen: 0 }
  const pairs = new Set<() => void>()
  let held: (() => void)[] | null = null
  const server = net.createServer((inbound) => {
    stats.total++
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open)
    let outbound: net.Socket | undefined
    let closed = false
    const done = () => {
      if (closed) return
      closed = true
      stats.open--
      pairs.delete(done)
      inbound.destroy()
      outbound?.destroy()
    }
    pairs.add(done)
    inbound.on('close', done).on('error', done)
    const forward = () => {
      if (closed) return
      outbound = net.connect(targetPort, '127.0.0.1')
      inbound.pipe(outbound).pipe(inbound)
      outbound.on('close', done).on('error', done)
    }
    if (held) { inbound.pause(); held.push(forward) } else forward()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    cut: () => { for (const done of [...pairs]) done() },
    hold: () => { held ??= [] },
    release: () => {
      const waiting = held ?? []
      held = null
      for (const forward of waiting) forward()
    },
    close: async () => {
      for (const done of [...pairs]) done()
      await new Promise((r) => server.close(r))
    },
  }
}
