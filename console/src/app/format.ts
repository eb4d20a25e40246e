// How times, statuses and badges read in the console.
import { h } from './dom.js'
import type { EtaStatus, ShipmentStatus, StopStatus } from '../api/types.js'

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' })

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '—' : dateTime.format(date)
}

export function formatClock(iso: string): string {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : timeOnly.format(date)
}

/** "3 min ago", for last-seen columns; the exact time goes in the title. */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never'
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000)
  if (!Number.isFinite(seconds)) return '—'
  if (seconds < 60) return 'just now'
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86_400)} d ago`
}

export function formatWindow(start: string | null, end: string | null): string {
  if (!start && !end) return 'any time'
  if (start && end) return `${formatTime(start)} – ${formatTime(end)}`
  return start ? `from ${formatTime(start)}` : `by ${formatTime(end)}`
}

/** "in_transit" → "in transit" */
export const words = (code: string): string => code.replace(/_/g, ' ')

const punctuality: Record<Exclude<EtaStatus, 'unknown'>, string> = { on_time: 'on time', at_risk: 'at risk', late: 'late' }

/** On time / at risk / late against the stop's window; "unknown" is either no ETA yet or no window to judge by. */
export function etaBadge(status: EtaStatus, eta: string | null): HTMLElement {
  const text = status === 'unknown' ? (eta ? 'no window' : 'no ETA') : punctuality[status]
  return h('span', { class: `badge badge--eta-${status}` }, text)
}

export function statusBadge(status: ShipmentStatus | StopStatus): HTMLElement {
  return h('span', { class: `badge badge--${status}`, 'data-status': status }, words(status))
}
