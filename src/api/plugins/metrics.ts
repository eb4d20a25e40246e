// HTTP metrics for every route and the Prometheus endpoint at /metrics.
import fp from 'fastify-plugin'
import type { Metrics } from '../../metrics.js'

export default fp<{ metrics: Metrics }>(async function metricsPlugin(app, { metrics }) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    if (route === '/metrics') return
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode })
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { schema: { hide: true }, config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    void reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}, { name: 'metrics' })
