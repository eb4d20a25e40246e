// The baseline for bench:connections: a bare Aedes 1.2 broker (no hooks, no persistence options,
// default settings) on a TCP port: what the same connections cost without ReTrack's authentication,
// presence and everything else in the process. Prints {"port": N} once listening.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'

const aedes = await Aedes.createBroker()
const server = net.createServer((socket) => { aedes.handle(socket) })
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { server.close(); aedes.close(() => process.exit(0)) })
}
