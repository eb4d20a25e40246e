// One shipment: its stops (window, ETA, arrival, departure), a timeline that grows live, and the
// operator actions. The live stream (filtered by shipmentId) feeds the timeline and triggers a
// re-read of the shipment, so status and stops change on screen without a reload.
import { describeError } from '../../api/errors.js'
import type { ShipmentDetail } from '../../api/types.js'
import { debounced } from '../../app/debounce.js'
import { h, notice, replace, say } from '../../app/dom.js'
import { formatTime, statusBadge } from '../../app/format.js'
import type { View, ViewContext } from '../../app/router.js'
import { LiveStream } from '../../live/stream.js'
import { streamBadge } from '../stream-badge.js'
import { shipmentActions } from './actions.js'
import { stopsTable } from './stops.js'
import { Timeline } from './timeline.js'

const RELOAD_DELAY_MS = 300

function facts(s: ShipmentDetail): HTMLElement {
  const item = (term: string, value: string | HTMLElement) => [h('dt', {}, term), h('dd', {}, value)]
  return h('dl', { class: 'facts' },
    ...item('Device', s.deviceId ? h('code', {}, s.deviceId) : '—'),
    ...item('Created', formatTime(s.createdAt)),
    ...item('Started', formatTime(s.startedAt)),
    ...(s.deliveredAt ? item('Delivered', formatTime(s.deliveredAt)) : []),
    ...(s.cancelledAt ? item('Cancelled', formatTime(s.cancelledAt)) : []),
    ...(s.notes ? item('Notes', s.notes) : []))
}

export async function shipmentView(ctx: ViewContext): Promise<View> {
  const id = ctx.params['id'] ?? ''
  let shipment = await ctx.api.shipment(id)
  const title = h('h1', {})
  const status = h('p', { class: 'shipment-status', 'aria-live': 'polite' })
  const details = h('div')
  const stops = h('div', { class: 'table-wrap' })
  const actions = h('div')
  const error = notice('error')
  const timeline = new Timeline()
  const stream = streamBadge()
  let actionsFor = ''

  function render(): void {
    replace(title, shipment.reference)
    replace(status, 'Status: ', statusBadge(shipment.status))
    replace(details, facts(shipment))
    replace(stops, stopsTable(shipment.stops))
    timeline.setStops(shipment.stops)
    // the buttons depend on the status; never rebuild them under an open dialog
    if (ctx.session.canAct && actionsFor !== shipment.status && !actions.querySelector('dialog[open]')) {
      actionsFor = shipment.status
      replace(actions, shipmentActions(ctx.api, shipment, { recorded: (events) => timeline.merge(events, true), changed: reloadSoon }))
    }
  }

  async function reload(): Promise<void> {
    try {
      const [fresh, events] = await Promise.all([ctx.api.shipment(id), ctx.api.timeline(id)])
      shipment = fresh
      timeline.merge(events)
      render()
      say(error, null)
    } catch (err) {
      say(error, describeError(err))
    }
  }
  // a milestone arrives as several events at once (arrived, shipment_status…): read once after them
  const reloadSoon = debounced(() => { void reload() }, RELOAD_DELAY_MS)

  render()
  // read the timeline now, not only when the stream opens: a stream that cannot connect (a proxy
  // that drops Server-Sent Events, the node's stream refused) must not leave the page saying "No events"
  ctx.api.timeline(id).then((events) => timeline.merge(events), (err: unknown) => say(error, describeError(err)))
  const live = new LiveStream(ctx.session, { shipmentId: id }, {
    state: stream.set,
    tracking: (event) => { timeline.merge([event], true); reloadSoon() },
    opened: reloadSoon, // first connection and every reconnection: catch up on anything missed
  })

  const element = h('article', { class: 'page shipment' },
    h('div', { class: 'panel-head' }, title, stream.element),
    h('div', { class: 'shipment-head' }, status, h('a', { href: `/map?shipment=${encodeURIComponent(id)}`, class: 'button' }, 'Show on map')),
    error, actions, details,
    h('section', { 'aria-labelledby': 'stops-title' }, h('h2', { id: 'stops-title' }, 'Stops'), stops),
    h('section', { 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title' }, 'Timeline'), timeline.element))
  return { title: shipment.reference, element, dispose() { live.close(); reloadSoon.cancel() } }
}
