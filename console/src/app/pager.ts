// Previous / next over an offset-paged list (the API's { items, total, limit, offset }), with
// "51–100 of 1,234" between them. The view owns the reads; the pager only keeps the offset.
import { h } from './dom.js'

export interface Pager {
  readonly element: HTMLElement
  /** where the next read starts */
  readonly offset: number
  /** back to the first page (the filters changed) */
  reset(): void
  /** after a read: the buttons and the summary for the page shown */
  show(shown: number, total: number): void
}

export function pager(pageSize: number, load: () => void): Pager {
  let offset = 0
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' })
  const previous = h('button', { type: 'button', class: 'button' }, 'Previous page')
  const next = h('button', { type: 'button', class: 'button' }, 'Next page')
  previous.addEventListener('click', () => { offset = Math.max(0, offset - pageSize); load() })
  next.addEventListener('click', () => { offset += pageSize; load() })
  return {
    element: h('div', { class: 'pager' }, previous, summary, next),
    get offset() { return offset },
    reset() { offset = 0 },
    show(shown, total) {
      summary.textContent = total === 0 ? '' : `${(offset + 1).toLocaleString()}–${(offset + shown).toLocaleString()} of ${total.toLocaleString()}`
      previous.disabled = offset === 0
      next.disabled = offset + shown >= total
    },
  }
}
