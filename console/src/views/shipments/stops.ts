// The stops of a shipment in route order: appointment window, ETA and punctuality, what happened.
import type { Stop } from '../../api/types.js'
import { h } from '../../app/dom.js'
import { etaBadge, formatTime, formatWindow, statusBadge, words } from '../../app/format.js'

function stopRow(stop: Stop): HTMLTableRowElement {
  // an ETA means something only while the stop is still ahead
  const eta = stop.status === 'pending' ? h('span', {}, formatTime(stop.eta), ' ', etaBadge(stop.etaStatus, stop.eta)) : '—'
  return h('tr', { 'data-stop-id': stop.id },
    h('td', { class: 'numeric' }, stop.seq + 1),
    h('th', { scope: 'row' }, stop.name, stop.address ? h('small', { class: 'muted block' }, stop.address) : null),
    h('td', {}, words(stop.type)),
    h('td', {}, formatWindow(stop.windowStart, stop.windowEnd)),
    h('td', {}, eta),
    h('td', {}, formatTime(stop.arrivedAt)),
    h('td', {}, formatTime(stop.departedAt)),
    h('td', {}, statusBadge(stop.status)))
}

export function stopsTable(stops: Stop[]): HTMLTableElement {
  const sorted = [...stops].sort((a, b) => a.seq - b.seq)
  return h('table', { class: 'table', 'aria-labelledby': 'stops-title' },
    h('thead', {}, h('tr', {}, ...['#', 'Stop', 'Type', 'Window', 'ETA', 'Arrived', 'Departed', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...sorted.map(stopRow)))
}
