// The tenant's devices on the map: one keyboard-reachable marker per device with a known position,
// coloured by status and moved in place as positions arrive (no re-creation, so focus and an open
// popup survive updates).
import L from 'leaflet'
import { h } from '../../app/dom.js'
import { formatTime, words } from '../../app/format.js'
import type { Device, LivePosition, Vehicle } from '../../api/types.js'
import { deviceStatus, STATUS_LABEL, type DeviceStatus } from './status.js'

interface Tracked {
  name: string
  online: boolean
  position: LivePosition | null
  marker: L.Marker | null
}

const STATUSES: readonly DeviceStatus[] = ['moving', 'stopped', 'offline']

export class FleetLayer {
  private readonly tracked = new Map<string, Tracked>()
  private readonly group: L.LayerGroup

  constructor(map: L.Map, private readonly changed: () => void = () => undefined) {
    this.group = L.layerGroup().addTo(map)
  }

  /** Markers are named after the vehicle a device is on (what operators think in), else the device. */
  setDevices(devices: Device[], vehicles: Map<string, Vehicle>): void {
    for (const device of devices) {
      const entry = this.entry(device.id)
      const vehicle = device.vehicleId ? vehicles.get(device.vehicleId) : undefined
      entry.name = vehicle ? `${vehicle.name} (${device.name})` : device.name
      entry.online = device.presence?.online ?? false
      this.draw(device.id, entry)
    }
    this.changed()
  }

  /** A position from the live stream means the device is talking now; one from a read may be old. */
  /** A batch of positions (the map's first load, a stream frame): the legend is redrawn once, not per device. */
  setPositions(positions: readonly LivePosition[], live: boolean): void {
    let moved = false
    for (const position of positions) {
      const entry = this.entry(position.deviceId)
      if (entry.position && Date.parse(entry.position.ts) > Date.parse(position.ts)) continue
      entry.position = position
      if (live) entry.online = true
      this.draw(position.deviceId, entry)
      moved = true
    }
    if (moved) this.changed()
  }

  setOnline(deviceId: string, online: boolean): void {
    const entry = this.entry(deviceId)
    entry.online = online
    this.draw(deviceId, entry)
    this.changed()
  }

  /** Where the devices with a position are, or null when none has one. */
  bounds(): L.LatLngBounds | null {
    const points = [...this.tracked.values()].flatMap((t) => (t.position ? [L.latLng(t.position.lat, t.position.lon)] : []))
    return points.length > 0 ? L.latLngBounds(points) : null
  }

  counts(): Record<DeviceStatus, number> {
    const counts: Record<DeviceStatus, number> = { moving: 0, stopped: 0, offline: 0 }
    for (const t of this.tracked.values()) if (t.position) counts[this.statusOf(t)]++
    return counts
  }

  private entry(deviceId: string): Tracked {
    let entry = this.tracked.get(deviceId)
    if (!entry) this.tracked.set(deviceId, entry = { name: deviceId, online: false, position: null, marker: null })
    return entry
  }

  private statusOf(t: Tracked): DeviceStatus { return deviceStatus(t.online, t.position?.speed ?? null) }

  private draw(deviceId: string, t: Tracked): void {
    if (!t.position) return
    const at = L.latLng(t.position.lat, t.position.lon)
    if (!t.marker) {
      t.marker = L.marker(at, {
        icon: L.divIcon({ className: 'device-marker', html: '<span class="device-marker__heading"></span>', iconSize: [20, 20] }),
        keyboard: true, riseOnHover: true,
      })
      t.marker.bindPopup(() => this.popup(deviceId, t))
      t.marker.addTo(this.group)
    } else {
      t.marker.setLatLng(at)
    }
    this.decorate(deviceId, t)
  }

  /** Status, name and position on the marker's element: colour for eyes, label for screen readers and tests. */
  private decorate(deviceId: string, t: Tracked): void {
    const element = t.marker?.getElement()
    if (!element || !t.position) return
    const status = this.statusOf(t)
    for (const s of STATUSES) element.classList.toggle(`device-marker--${s}`, s === status)
    element.setAttribute('aria-label', `${t.name}: ${STATUS_LABEL[status]}`)
    element.title = `${t.name} (${STATUS_LABEL[status]})`
    element.dataset['deviceId'] = deviceId
    element.dataset['status'] = status
    element.dataset['lat'] = t.position.lat.toFixed(6)
    element.dataset['lon'] = t.position.lon.toFixed(6)
    const arrow = element.querySelector<HTMLElement>('.device-marker__heading')
    if (arrow) {
      arrow.hidden = t.position.heading === null || status !== 'moving'
      arrow.style.transform = `rotate(${t.position.heading ?? 0}deg)`
    }
  }

  private popup(deviceId: string, t: Tracked): HTMLElement {
    const p = t.position
    const speed = p?.speed !== null && p?.speed !== undefined ? `${(p.speed * 3.6).toFixed(0)} km/h` : 'unknown'
    return h('div', { class: 'popup' },
      h('strong', {}, t.name),
      h('dl', {},
        h('dt', {}, 'Device'), h('dd', {}, h('code', {}, deviceId)),
        h('dt', {}, 'Status'), h('dd', {}, words(this.statusOf(t))),
        h('dt', {}, 'Last fix'), h('dd', {}, formatTime(p?.ts)),
        h('dt', {}, 'Speed'), h('dd', {}, speed)))
  }
}
