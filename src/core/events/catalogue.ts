// The one catalogue of tracking event types (docs/events.md is generated from it). Every stored
// event has one of these types, except device-originated events, which keep the type the device
// sent (sos, door_open, delivery_confirmed, …) and have source "device".
export type EventSource = 'device' | 'rule' | 'user'

export interface EventType {
  type: string
  source: EventSource
  description: string
  /** the event that ends this condition, for anomalies that fire once and clear once */
  clearedBy?: string
}

const t = (type: string, source: EventSource, description: string, clearedBy?: string): EventType =>
  ({ type, source, description, ...(clearedBy ? { clearedBy } : {}) })

export const EVENT_TYPES = [
  // milestones
  t('arrived', 'rule', 'the asset stopped inside a stop\'s fence and stayed there for the arrival dwell (a drive-by is no arrival)'),
  t('departed', 'rule', 'the asset left a stop\'s fence beyond the exit margin for the exit time'),
  t('picked_up', 'rule', 'departure from a pickup stop'),
  t('delivered', 'rule', 'departure from a delivery stop, a proof of delivery recorded through the API (source user; payload by: proof_of_delivery), or the last stop skipped through the API (source user, the skipped stop; payload by: skip)'),
  t('stop_skipped', 'rule', 'a later stop was reached (a longer stop there than an arrival needs) while this one was still pending, or an operator skipped it (source user); payload: reference, stop, and reachedStopSeq when a later stop was reached'),
  t('shipment_status', 'rule', 'the shipment moved to a new status (payload: reference, from, to); source user when set through the API (assign, cancel, a skip or an event recorded that changes it)'),
  // ETA
  t('eta_updated', 'rule', 'a stop\'s predicted arrival moved by more than the threshold, or its status changed, or it became unknown (a stop driven past, a silent asset overdue) or known again'),
  t('delay_predicted', 'rule', 'a stop\'s predicted arrival passed the end of its appointment window (or, the arrival unknown, the window ended without it)', 'delay_cleared'),
  t('delay_cleared', 'rule', 'a predicted delay no longer holds (payload reason: eta, arrived — late or not —, skipped, closed); every delay_predicted gets one'),
  t('late', 'rule', 'the asset arrived at a stop after its deadline: the end of its appointment window, or its start when the window has no end'),
  // geofences
  t('geofence_entered', 'rule', 'the asset entered a tenant geofence (after the dwell)'),
  t('geofence_exited', 'rule', 'the asset left a tenant geofence (beyond the margin, after the exit time)'),
  // anomalies
  t('off_route', 'rule', 'the asset is further from the planned route than the limit (never once every stop is reached or skipped)', 'back_on_route'),
  t('back_on_route', 'rule', 'the asset is back within the limit of the planned route'),
  t('unplanned_stop', 'rule', 'the asset has been stationary away from every stop for longer than the limit, once its trip has started', 'unplanned_stop_ended'),
  t('unplanned_stop_ended', 'rule', 'the asset moves again after an unplanned stop'),
  t('device_offline', 'rule', 'no data from the device for longer than the limit (wall clock)', 'device_online'),
  t('device_online', 'rule', 'data from the device again after it was reported offline'),
  t('gps_jump', 'rule', 'a fix implied an impossible speed and was dropped', 'gps_jump_cleared'),
  t('gps_jump_cleared', 'rule', 'fixes are consistent again after a GPS jump'),
  t('low_battery', 'rule', 'the device battery fell below the threshold', 'battery_recovered'),
  t('battery_recovered', 'rule', 'the battery rose above the recovery threshold'),
  t('temperature_excursion', 'rule', 'the temperature left the shipment\'s allowed range (never once every stop is reached or skipped)', 'temperature_normal'),
  t('temperature_normal', 'rule', 'the temperature is back inside the allowed range'),
  // people
  t('exception', 'user', 'an operator recorded an exception (payload: reference, code, note)'),
  t('proof_of_delivery', 'user', 'proof of delivery (payload: reference, name, time, note)'),
  t('comment', 'user', 'a comment on the shipment (payload: reference, text)'),
  t('shipment_cancelled', 'user', 'an operator cancelled the shipment (payload: reference, reason), followed by its shipment_status'),
] as const satisfies readonly EventType[]

export type TrackingEventType = typeof EVENT_TYPES[number]['type']

export const eventTypes = new Map<string, EventType>(EVENT_TYPES.map((e) => [e.type, e]))
