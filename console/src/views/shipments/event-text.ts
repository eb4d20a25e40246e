// One line of words for a tracking event: what happened, where, and the payload that matters.
import type { Stop, TrackingEvent } from '../../api/types.js'
import { formatTime, words } from '../../app/format.js'

const TITLES: Record<string, string> = {
  arrived: 'Arrived', departed: 'Departed', picked_up: 'Picked up', delivered: 'Delivered', stop_skipped: 'Stop skipped',
  shipment_status: 'Status changed', eta_updated: 'ETA updated', delay_predicted: 'Delay predicted', delay_cleared: 'Delay cleared',
  late: 'Late', exception: 'Exception', proof_of_delivery: 'Proof of delivery', comment: 'Comment', shipment_cancelled: 'Cancelled',
  off_route: 'Off route', back_on_route: 'Back on route', unplanned_stop: 'Unplanned stop', unplanned_stop_ended: 'Moving again',
  device_offline: 'Device offline', device_online: 'Device online', gps_jump: 'GPS jump', low_battery: 'Low battery',
  temperature_excursion: 'Temperature excursion', temperature_normal: 'Temperature normal',
}

export const eventTitle = (type: string): string => TITLES[type] ?? words(type).replace(/^./, (c) => c.toUpperCase())

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null)

/** The details worth a person's attention, by event type; unknown types show nothing extra. */
export function eventDetail(event: TrackingEvent, stops: Map<string, Stop>): string {
  const p = event.payload
  const stop = event.stopId ? stops.get(event.stopId)?.name : null
  const parts: Array<string | null> = [stop ? `at ${stop}` : null]
  switch (event.type) {
    case 'shipment_status': parts.push(`${words(text(p['from']) ?? '?')} → ${words(text(p['to']) ?? '?')}`); break
    case 'exception': parts.push(text(p['code']) ? `code ${text(p['code'])}` : null, text(p['note'])); break
    case 'proof_of_delivery': parts.push(text(p['name']) ? `received by ${text(p['name'])}` : null, text(p['time']) ? formatTime(text(p['time'])) : null, text(p['note'])); break
    case 'comment': parts.push(text(p['text'])); break
    case 'shipment_cancelled': parts.push(text(p['reason'])); break
    case 'eta_updated': case 'delay_predicted': parts.push(text(p['eta']) ? `ETA ${formatTime(text(p['eta']))}` : null); break
    default: break
  }
  return parts.filter((x): x is string => x !== null).join(' · ')
}
