// HTTP metrics for every route and the Prometheus endpoint at /metrics. In a worker of a WORKERS > 1
// node, /metrics answers for the whole node, not for the worker the connection landed on
// (src/cluster-metrics.ts).
import fp from 'fastify-plugin'
import type { Metrics } from '../../metrics.js'
import { nodeMetricsWorker } from '../../cluster-metrics.js'
import { workerSlot } from '../../workers.js'

export default fp<{ metrics: Metrics }>(async function metricsPlugin(app, { metrics }) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    if (route === '/metrics') return
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode })
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })
  const slot = workerSlot()
  const node = slot === undefined ? undefined : nodeMetricsWorker(metrics, slot)
  if (node) app.addHook('onClose', async () => node.close())
  app.get('/metrics', { schema: { hide: true }, config: { access: 'public' }, logLevel: 'warn' }, async (request, reply) => {
    void reply.type(metrics.registry.contentType)
    if (!node) return metrics.registry.metrics()
    try {
      return await node.ask()
    } catch (err) {
      // a partial answer would look like a counter reset to Prometheus: this scrape fails instead
      request.log.warn({ err }, 'no metrics for the node')
      return reply.code(503).type('text/plain; charset=utf-8').send(`node metrics unavailable: ${(err as Error).message}\n`)
    }
  })
}, { name: 'metrics' })
