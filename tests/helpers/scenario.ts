// A node, a tenant with one device, and helpers to create shipments and replay tracks over MQTT.
import type { MqttClient } from 'mqtt'
import type { Reading } from '../../src/contracts/payloads.js'
import type { Config } from '../../src/config.js'
import { connect, deviceOptions, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from './server.js'

export interface StopSpec { type: 'pickup' | 'delivery' | 'waypoint', name: string, lon: number, lat: number, radiusM?: number, windowStart?: string, windowEnd?: string, plannedDwellS?: number }

export interface Scenario {
  node: TestNode
  acme: Provisioned
  device: { id: string, secret: string }
  client: MqttClient
  createShipment(body: { reference: string, stops: StopSpec[], route?: { type: 'LineString', coordinates: number[][] }, tempMinC?: number, tempMaxC?: number }): Promise<{ id: string, stops: Array<{ id: string }> }>
  /** publishes the readings in batches (as a device after a coverage gap would) and waits until processed */
  replay(readings: Reading[], batch?: number): Promise<void>
  events(shipmentId?: string): Promise<Array<{ type: string, ts: number, stop_id: string | null, payload: Record<string, unknown> }>>
  shipment(id: string): Promise<{ status: string, stops: Array<{ status: string, arrivedAt: string | null, departedAt: string | null, eta: string | null, etaStatus: string }> }>
  close(): Promise<void>
}

export async function scenario(slug: string, overrides: Partial<Config> = {}): Promise<Scenario> {
  const node = await startNode(overrides, { postgres: postgresAvailable() })
  const acme = await provision(node, slug, 1)
  const device = acme.devices[0]!
  const client = await connect(node.mqttUrl, deviceOptions(slug, device))
  const api = nodeApi(node)
  const topic = `tenants/${slug}/devices/${device.id}/telemetry`
  return {
    node, acme, device, client,
    // each scenario shipment is the truck's one trip: the earlier ones still open are cancelled first
    // (a truck with several open trips follows the one under way, src/db/asset-context.ts)
    async createShipment(body) {
      const open = await api<{ items: Array<{ id: string }> }>('GET', `/api/v1/shipments?deviceId=${device.id}&status=planned&status=assigned&status=in_transit&status=at_stop&status=exception&limit=500`, acme.operatorToken)
      for (const { id } of open.items) await api('POST', `/api/v1/shipments/${id}/cancel`, acme.operatorToken, { reason: 'next trip' })
      return api('POST', '/api/v1/shipments', acme.operatorToken, { ...body, deviceId: device.id })
    },
    async replay(readings, batch = 50) {
      for (let i = 0; i < readings.length; i += batch) {
        await client.publishAsync(topic, JSON.stringify(readings.slice(i, i + batch)), { qos: 1 })
        // acked means stored; let the pipeline apply this batch before the next (a real device is slower)
        await node.server.ingestion.pipeline.idle()
      }
      await node.server.ingestion.drain()
    },
    async events(shipmentId) {
      const { rows } = await node.server.db.pool.query<{ type: string, ts: Date, stop_id: string | null, payload: Record<string, unknown> }>(
        `select type, ts, stop_id, payload from tracking_events where tenant_id = $1 and device_id = $2 ${shipmentId ? 'and shipment_id = $3' : ''} order by ts, id`,
        shipmentId ? [acme.tenant.id, device.id, shipmentId] : [acme.tenant.id, device.id])
      return rows.map((r) => ({ ...r, ts: r.ts.getTime() }))
    },
    shipment: (id) => api('GET', `/api/v1/shipments/${id}`, acme.operatorToken),
    async close() { client.end(true); await node.close() },
  }
}
