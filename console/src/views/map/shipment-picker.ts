// Chooses which open shipment the map shows (its fences and route); `?shipment=<id>` preselects one.
import type L from 'leaflet'
import { describeError } from '../../api/errors.js'
import { h, replace } from '../../app/dom.js'
import { formatTime, words } from '../../app/format.js'
import type { ViewContext } from '../../app/router.js'
import type { ShipmentDetail, ShipmentStatus } from '../../api/types.js'
import type { ShipmentOverlay } from './shipment-overlay.js'

const OPEN: ShipmentStatus[] = ['planned', 'assigned', 'in_transit', 'at_stop', 'exception']

export function shipmentPicker(ctx: ViewContext, overlay: ShipmentOverlay, map: L.Map, onFocus: () => void) {
  const select = h('select', { name: 'shipment' }, h('option', { value: '' }, 'None'))
  const details = h('div', { class: 'picker-details', 'aria-live': 'polite' })
  let current: ShipmentDetail | null = null

  function describe(shipment: ShipmentDetail | null): void {
    if (!shipment) { replace(details); return }
    const next = shipment.stops.find((s) => s.status === 'pending')
    replace(details,
      h('p', {}, h('a', { href: `/shipments/${shipment.id}` }, `Open ${shipment.reference}`)),
      h('p', {}, `Status: ${words(shipment.status)}`),
      next ? h('p', {}, `Next stop: ${next.name}, ETA ${formatTime(next.eta)}`) : null)
  }

  async function show(id: string): Promise<void> {
    current = id ? await ctx.api.shipment(id) : null
    if (!map.getContainer().isConnected) return // the user left the map while it loaded
    overlay.show(current)
    describe(current)
    const bounds = overlay.bounds()
    if (bounds) { onFocus(); map.fitBounds(bounds.pad(0.2), { maxZoom: 14 }) }
  }

  select.addEventListener('change', () => {
    show(select.value).catch((err: unknown) => replace(details, h('p', { role: 'alert' }, describeError(err))))
  })

  return {
    select,
    details,
    selected: () => current !== null,
    async load(preselect: string | null): Promise<void> {
      try {
        const { items } = await ctx.api.shipments({ status: OPEN, limit: 200 })
        const option = (s: { id: string, reference: string, status: string }) => h('option', { value: s.id }, `${s.reference} (${words(s.status)})`)
        for (const s of items) select.append(option(s))
        if (!preselect) return
        // "Show on map" from a delivered or cancelled shipment: not in the open list, add it
        if (!items.some((s) => s.id === preselect)) select.append(option(await ctx.api.shipment(preselect)))
        select.value = preselect
        await show(preselect)
      } catch (err) {
        replace(details, h('p', { role: 'alert' }, describeError(err)))
      }
    },
  }
}
