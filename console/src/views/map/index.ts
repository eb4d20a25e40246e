// The live map: the tenant's devices where they last were (the device list and /positions/latest,
// a page of 1,000 devices per request), then moving with the stream's position frames; a chosen shipment's stop fences and route.
import 'leaflet/dist/leaflet.css'
import L from 'leaflet'
import { describeError } from '../../api/errors.js'
import { field, h, notice, replace, say } from '../../app/dom.js'
import type { View, ViewContext } from '../../app/router.js'
import { LiveStream } from '../../live/stream.js'
import { streamBadge } from '../stream-badge.js'
import { addBasemap, BASEMAP_ATTRIBUTION } from './basemap.js'
import { FleetLayer } from './fleet.js'
import { ShipmentOverlay } from './shipment-overlay.js'
import { shipmentPicker } from './shipment-picker.js'
import type { DeviceStatus } from './status.js'

const FLEET_MAX_ZOOM = 13
const PRESENCE_TYPES = ['device_online', 'device_offline']

/** Resolves once the element is laid out: Leaflet measures its container to fit bounds. */
function whenSized(element: HTMLElement): { ready: Promise<void>, stop(): void } {
  let resolve: () => void = () => undefined
  const ready = new Promise<void>((r) => { resolve = r })
  const observer = new ResizeObserver(([entry]) => { if (entry && entry.contentRect.width > 0) resolve() })
  observer.observe(element)
  return { ready, stop: () => observer.disconnect() }
}

export function mapView(ctx: ViewContext): View {
  const container = h('div', { class: 'map', role: 'region', 'aria-label': 'Live map' })
  const map = L.map(container, { worldCopyJump: true, minZoom: 2, maxZoom: 16, zoomSnap: 0.5, attributionControl: false }).setView([30, 10], 2)
  L.control.attribution({ prefix: false }).addAttribution(BASEMAP_ATTRIBUTION).addTo(map)
  L.control.scale({ imperial: false }).addTo(map)

  const legend = h('ul', { class: 'legend', 'aria-label': 'Devices by status' })
  const error = notice('error')
  const capped = notice('info')
  const stream = streamBadge()
  let userMoved = false
  let disposed = false
  const fleet = new FleetLayer(map, () => renderLegend(fleet.counts()))
  const overlay = new ShipmentOverlay(map)

  function renderLegend(counts: Record<DeviceStatus, number>): void {
    replace(legend, ...(['moving', 'stopped', 'offline'] as const).map((s) =>
      h('li', {}, h('span', { class: `legend__dot legend__dot--${s}`, 'aria-hidden': 'true' }), `${s}: `, h('span', { 'data-count': s }, counts[s]))))
  }
  renderLegend(fleet.counts())

  const fitFleet = () => {
    if (disposed) return // a read that finished after the user left
    const bounds = fleet.bounds()
    if (bounds) map.fitBounds(bounds.pad(0.3), { maxZoom: FLEET_MAX_ZOOM })
  }
  const picker = shipmentPicker(ctx, overlay, map, () => { userMoved = true })
  map.on('dragstart zoomstart', (event: L.LeafletEvent) => { if ((event as L.LeafletEvent & { originalEvent?: Event }).originalEvent) userMoved = true })

  async function loadPositions(): Promise<void> {
    const [devices, vehicles, positions] = await Promise.all([ctx.api.allDevices(), ctx.api.allVehicles(), ctx.api.latestPositions()])
    if (disposed) return
    fleet.setDevices(devices.items, new Map(vehicles.items.map((v) => [v.id, v])))
    fleet.setPositions(positions, false)
    say(capped, devices.complete ? null : `Showing the first ${devices.items.length.toLocaleString()} devices.`)
    if (!userMoved && !picker.selected()) fitFleet()
  }

  const sized = whenSized(container)
  const live = new LiveStream(ctx.session, { positions: true, types: PRESENCE_TYPES }, {
    state: stream.set,
    // (re)connected: positions may have been missed meanwhile, read them again
    opened: () => { void sized.ready.then(loadPositions).catch((err: unknown) => say(error, describeError(err))) },
    positions: (positions) => {
      const hadAny = fleet.bounds() !== null
      fleet.setPositions(positions, true)
      if (!hadAny && !userMoved && !picker.selected()) fitFleet()
    },
    tracking: (event) => { if (event.deviceId) fleet.setOnline(event.deviceId, event.type === 'device_online') },
  })

  void sized.ready.then(async () => {
    map.invalidateSize()
    await addBasemap(map)
  }).catch((err: unknown) => say(error, `The basemap did not load: ${describeError(err)}`))
  const resize = new ResizeObserver(() => { if (!disposed) map.invalidateSize() })
  resize.observe(container)

  const sidebar = h('aside', { class: 'map-panel', 'aria-label': 'Map controls' },
    h('div', { class: 'panel-head' }, h('h1', {}, 'Live map'), stream.element),
    error,
    h('h2', {}, 'Devices'), capped, legend,
    h('button', { type: 'button', class: 'button', onclick: () => { userMoved = false; fitFleet() } }, 'Fit to fleet'),
    h('h2', {}, 'Shipment'), field('Shipment on the map', picker.select), picker.details)

  void picker.load(ctx.search.get('shipment'))
  return {
    title: 'Live map',
    element: h('div', { class: 'map-page' }, sidebar, container),
    dispose() {
      disposed = true
      live.close()
      sized.stop()
      resize.disconnect()
      // Leaflet ends a zoom animation on a 250 ms timer that remove() does not cancel; removing the
      // map under it throws (_leaflet_pos). The element is already off the page: let it finish.
      setTimeout(() => map.remove(), 300)
    },
  }
}
