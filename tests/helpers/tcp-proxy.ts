// A TCP proxy in front of a real service, that a test cuts (listener closed, every connection
// through it destroyed: what a node sees when Redis or the network goes away) and opens again on
// the same port. The service and its data stay as they were, unlike a restarted server.
import net from 'node:net'

export interface TcpProxy {
  port: number
  /** cuts every connection and refuses new ones */
  cut(): Promise<void>
  /** accepts connections again, on the same port */
  open(): Promise<void>
  close(): Promise<void>
}

export async function tcpProxy(target: { host: string, port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a)
      a.on('error', () => b.destroy())
      a.on('close', () => { sockets.delete(a); b.destroy() })
      a.pipe(b)
    }
  })
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  await listen(0)
  const port = (server.address() as net.AddressInfo).port
  const cut = async () => {
    if (!server.listening) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }
  return {
    port, cut,
    open: async () => { if (!server.listening) await listen(port) },
    close: cut,
  }
}
