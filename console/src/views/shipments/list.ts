// Shipments with status, next stop, its ETA and an on-time / at-risk / late badge; filtered by
// status and reference, and refreshed when the live stream says something moved.
import { describeError } from '../../api/errors.js'
import type { ShipmentStatus, ShipmentSummary } from '../../api/types.js'
import { debounced } from '../../app/debounce.js'
import { field, h, notice, replace, say } from '../../app/dom.js'
import { etaBadge, formatTime, statusBadge, words } from '../../app/format.js'
import { pager } from '../../app/pager.js'
import type { View, ViewContext } from '../../app/router.js'
import { LiveStream } from '../../live/stream.js'
import { streamBadge } from '../stream-badge.js'

const PAGE_SIZE = 50
const ALL: ShipmentStatus[] = ['planned', 'assigned', 'in_transit', 'at_stop', 'delivered', 'cancelled', 'exception']
const OPEN: ShipmentStatus[] = ['planned', 'assigned', 'in_transit', 'at_stop', 'exception']
/** events after which a row may read differently */
const ROW_CHANGING = ['shipment_status', 'eta_updated', 'delay_predicted', 'delay_cleared', 'late', 'arrived', 'departed', 'delivered', 'stop_skipped', 'exception', 'shipment_cancelled']

function statusFilter(value: string): ShipmentStatus[] | undefined {
  if (value === 'open') return OPEN
  return ALL.find((s) => s === value) ? [value as ShipmentStatus] : undefined
}

function row(s: ShipmentSummary): HTMLTableRowElement {
  return h('tr', { 'data-shipment-id': s.id },
    h('th', { scope: 'row' }, h('a', { href: `/shipments/${s.id}` }, s.reference)),
    h('td', {}, statusBadge(s.status)),
    h('td', {}, s.nextStop ? `${s.nextStop.seq + 1}. ${s.nextStop.name}` : '—'),
    h('td', {}, formatTime(s.nextStop?.eta)),
    h('td', {}, s.nextStop ? etaBadge(s.nextStop.etaStatus, s.nextStop.eta) : '—'),
    h('td', { class: 'numeric' }, s.stopsCount))
}

export function shipmentsView(ctx: ViewContext): View {
  const status = h('select', { name: 'status' },
    h('option', { value: '' }, 'All'), h('option', { value: 'open' }, 'Open (not delivered or cancelled)'),
    ...ALL.map((s) => h('option', { value: s }, words(s))))
  status.value = ctx.search.get('status') ?? ''
  const q = h('input', { type: 'search', name: 'q', placeholder: 'e.g. PO-1001', value: ctx.search.get('q') ?? '' })
  const body = h('tbody')
  const error = notice('error')
  const pages = pager(PAGE_SIZE, () => { void load() })
  const stream = streamBadge()
  /** answers can arrive out of order (a slow filter, then a fast one): only the latest read is shown */
  let latest = 0

  async function load(): Promise<void> {
    const asked = ++latest
    try {
      const page = await ctx.api.shipments({ status: statusFilter(status.value), q: q.value.trim() || undefined, limit: PAGE_SIZE, offset: pages.offset })
      if (asked !== latest) return
      replace(body, ...page.items.map(row))
      if (page.items.length === 0) replace(body, h('tr', {}, h('td', { colspan: 6 }, 'No shipment matches.')))
      say(error, null)
      pages.show(page.items.length, page.total)
    } catch (err) {
      if (asked === latest) say(error, describeError(err))
    }
  }

  const reloadSoon = debounced(() => { void load() }, 500)
  const refilter = () => {
    pages.reset()
    const params = new URLSearchParams({ ...(status.value ? { status: status.value } : {}), ...(q.value.trim() ? { q: q.value.trim() } : {}) })
    history.replaceState(null, '', `/shipments${params.size ? `?${params.toString()}` : ''}`)
    reloadSoon()
  }
  status.addEventListener('change', refilter)
  q.addEventListener('input', refilter)

  const live = new LiveStream(ctx.session, { types: ROW_CHANGING }, { state: stream.set, tracking: reloadSoon, opened: reloadSoon })
  void load()

  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter shipments', onsubmit: (e: Event) => { e.preventDefault(); refilter() } },
    field('Status', status), field('Reference', q))
  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Shipments'),
    h('thead', {}, h('tr', {}, ...['Reference', 'Status', 'Next stop', 'ETA', 'Punctuality', 'Stops'].map((t) => h('th', { scope: 'col' }, t)))),
    body)
  return {
    title: 'Shipments',
    element: h('section', { class: 'page' },
      h('div', { class: 'panel-head' }, h('h1', {}, 'Shipments'), stream.element),
      filters, error, h('div', { class: 'table-wrap' }, table), pages.element),
    dispose() { live.close(); reloadSoon.cancel() },
  }
}
