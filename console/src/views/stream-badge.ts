// A small "Live / Reconnecting…" indicator, so operators know whether what they see is current.
import { h } from '../app/dom.js'
import type { StreamState } from '../live/stream.js'

const TEXT: Record<StreamState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' }

export interface StreamBadge {
  element: HTMLElement
  /** a plain function, handed to LiveStream as its `state` callback */
  set: (state: StreamState) => void
}

export function streamBadge(): StreamBadge {
  const element = h('span', { class: 'stream stream--connecting', role: 'status', 'aria-label': 'Live updates' }, TEXT.connecting)
  const set = (state: StreamState) => {
    element.className = `stream stream--${state}`
    element.textContent = TEXT[state]
  }
  return { element, set }
}
