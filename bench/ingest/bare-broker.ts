// The baseline for bench:ingest: a bare Aedes 1.2 broker on a TCP port, no hooks, no processing.
// Prints {"port": N} once listening.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'

const aedes = await Aedes.createBroker()
const server = net.createServer((socket) => { aedes.handle(socket) })
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})
