// A shipment's events, newest first. Events come from two places that overlap (the timeline read
// and the live stream), so they are merged by id: each appears once, whichever arrived first.
import type { Stop, TrackingEvent } from '../../api/types.js'
import { h, replace } from '../../app/dom.js'
import { formatTime } from '../../app/format.js'
import { eventDetail, eventTitle } from './event-text.js'

const newestFirst = (a: TrackingEvent, b: TrackingEvent) => Date.parse(b.ts) - Date.parse(a.ts) || b.id - a.id

export class Timeline {
  readonly element: HTMLOListElement
  private readonly events = new Map<number, TrackingEvent>()
  private stops = new Map<string, Stop>()
  private fresh = new Set<number>()
  /** until the first read, an empty list means "not known yet", not "nothing happened" */
  private loaded = false

  constructor() {
    // polite: new events are announced without interrupting
    this.element = h('ol', { class: 'timeline', 'aria-labelledby': 'timeline-title', 'aria-live': 'polite' })
    this.render()
  }

  setStops(stops: Stop[]): void {
    this.stops = new Map(stops.map((s) => [s.id, s]))
    this.render()
  }

  /** `live`: arrived over the stream just now (highlighted). A read (not live) marks the list as loaded. */
  merge(events: TrackingEvent[], live = false): void {
    let added = !live && !this.loaded
    if (!live) this.loaded = true
    for (const event of events) {
      if (this.events.has(event.id)) continue
      this.events.set(event.id, event)
      if (live) this.fresh.add(event.id)
      added = true
    }
    if (added) this.render()
  }

  private render(): void {
    const items = [...this.events.values()].sort(newestFirst)
    if (items.length === 0) {
      replace(this.element, h('li', { class: 'timeline__empty' }, this.loaded ? 'No events yet.' : 'Loading events…'))
      return
    }
    replace(this.element, ...items.map((event) => {
      const detail = eventDetail(event, this.stops)
      return h('li', { class: `timeline__item timeline__item--${event.source}${this.fresh.has(event.id) ? ' is-new' : ''}`, 'data-event-type': event.type },
        h('time', { datetime: event.ts, class: 'timeline__time' }, formatTime(event.ts)),
        h('span', { class: 'timeline__title' }, eventTitle(event.type)),
        detail ? h('span', { class: 'timeline__detail' }, detail) : null,
        h('span', { class: 'timeline__source', title: 'source' }, event.source))
    }))
  }
}
