// What operators and admins can do to a shipment: record an exception, confirm delivery with a
// proof, comment, cancel. Viewers get none of this (the API would answer 403 anyway).
import type { Endpoints } from '../../api/endpoints.js'
import type { ShipmentDetail, TrackingEvent } from '../../api/types.js'
import { toTrackingEvents } from '../../api/guards.js'
import { field, h } from '../../app/dom.js'
import { formDialog } from './dialog.js'

const EXCEPTION_CODES = ['damaged', 'refused', 'delayed', 'customs_hold', 'address_issue', 'breakdown', 'missing_items', 'other']

/** `datetime-local` wants local wall time without a zone. */
function localNow(): string {
  const d = new Date()
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset())
  return d.toISOString().slice(0, 16)
}

export interface ActionHooks {
  /** events the API stored for the action (shown before the stream repeats them) */
  recorded(events: TrackingEvent[]): void
  /** the shipment changed: read it again */
  changed(): void
}

export function shipmentActions(api: Endpoints, shipment: ShipmentDetail, hooks: ActionHooks): HTMLElement {
  const closed = shipment.status === 'delivered' || shipment.status === 'cancelled'
  const record = async (body: Parameters<Endpoints['recordEvent']>[1]) => {
    const result = await api.recordEvent(shipment.id, body)
    hooks.recorded(toTrackingEvents(result.events))
    hooks.changed()
  }

  const code = h('input', { name: 'code', required: true, pattern: '[A-Za-z0-9_.\\-]{1,64}', list: 'exception-codes', autocomplete: 'off' })
  const codes = h('datalist', { id: 'exception-codes' }, ...EXCEPTION_CODES.map((c) => h('option', { value: c })))
  const exceptionNote = h('textarea', { name: 'note', rows: 3, maxlength: 2000 })
  const exception = formDialog('Record an exception', 'Record exception',
    [field('Exception code', code, 'A short code, e.g. damaged, refused, customs_hold.'), codes, field('Note', exceptionNote)],
    () => record({ type: 'exception', code: code.value.trim(), ...(exceptionNote.value.trim() ? { note: exceptionNote.value.trim() } : {}) }))

  const receiver = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' })
  const time = h('input', { type: 'datetime-local', name: 'time', required: true })
  const podNote = h('textarea', { name: 'note', rows: 3, maxlength: 2000 })
  const delivery = formDialog('Confirm delivery', 'Confirm delivery',
    [field('Received by', receiver), field('Delivered at', time), field('Note', podNote)],
    () => record({ type: 'proof_of_delivery', name: receiver.value.trim(), time: new Date(time.value).toISOString(), ...(podNote.value.trim() ? { note: podNote.value.trim() } : {}) }),
    () => { time.value = localNow() })

  const text = h('textarea', { name: 'text', rows: 3, required: true, maxlength: 4000 })
  const comment = formDialog('Add a comment', 'Add comment', [field('Comment', text)], () => record({ type: 'comment', text: text.value.trim() }))

  const reason = h('input', { name: 'reason', maxlength: 1000, autocomplete: 'off' })
  const cancel = formDialog('Cancel this shipment', 'Cancel shipment',
    [h('p', {}, 'A cancelled shipment is closed for good: no more tracking milestones, assignments or stop changes.'), field('Reason', reason)],
    async () => { await api.cancel(shipment.id, reason.value.trim() || undefined); hooks.changed() })

  const button = (label: string, dialog: { open(): void }, variant = '') =>
    h('button', { type: 'button', class: `button ${variant}`, onclick: () => dialog.open() }, label)
  return h('div', { class: 'actions', role: 'group', 'aria-label': 'Shipment actions' },
    closed ? null : button('Record exception', exception),
    shipment.status === 'cancelled' ? null : button('Confirm delivery', delivery, 'button--primary'),
    button('Add comment', comment),
    closed ? null : button('Cancel shipment', cancel, 'button--danger'),
    exception.element, delivery.element, comment.element, cancel.element)
}
