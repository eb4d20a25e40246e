// The selected shipment on the map: each stop's fence (the circle arrival is judged against) and
// the planned route. Without a planned route, dashed straight legs join the stops in order.
import L from 'leaflet'
import { h } from '../../app/dom.js'
import { words } from '../../app/format.js'
import type { ShipmentDetail, StopStatus } from '../../api/types.js'

const STOP_COLOURS: Record<StopStatus, string> = { pending: '#1f6feb', arrived: '#c77700', departed: '#2e7d32', skipped: '#7a7a7a' }

export class ShipmentOverlay {
  private readonly group: L.FeatureGroup

  constructor(map: L.Map) {
    this.group = L.featureGroup().addTo(map)
  }

  show(shipment: ShipmentDetail | null): void {
    this.group.clearLayers()
    if (!shipment) return
    const stops = [...shipment.stops].sort((a, b) => a.seq - b.seq)
    const route = shipment.route?.coordinates.map(([lon, lat]) => L.latLng(lat ?? 0, lon ?? 0))
    if (route && route.length >= 2) {
      L.polyline(route, { color: '#0f4c81', weight: 4, opacity: 0.8, interactive: false }).addTo(this.group)
    } else if (stops.length >= 2) {
      L.polyline(stops.map((s) => L.latLng(s.lat, s.lon)), { color: '#0f4c81', weight: 2, dashArray: '6 6', interactive: false }).addTo(this.group)
    }
    for (const stop of stops) {
      const colour = STOP_COLOURS[stop.status]
      L.circle([stop.lat, stop.lon], { radius: stop.radiusM, color: colour, weight: 2, fillColor: colour, fillOpacity: 0.15 })
        // permanent labels: at fleet zoom a fence is a dot, and the operator needs to know which stop it is.
        // An element, not a string: Leaflet puts a string content in as HTML, and stop names are data.
        .bindTooltip(h('span', {}, `${stop.seq + 1}. ${stop.name} · ${words(stop.status)}`), { permanent: true, direction: 'right', offset: [8, 0], className: 'stop-label' })
        .addTo(this.group)
      // the fence can be a few pixels wide at fleet zoom: a dot keeps the stop visible
      L.circleMarker([stop.lat, stop.lon], { radius: 4, color: colour, weight: 2, fillOpacity: 1, interactive: false }).addTo(this.group)
    }
  }

  bounds(): L.LatLngBounds | null {
    const bounds = this.group.getBounds()
    return bounds.isValid() ? bounds : null
  }
}
