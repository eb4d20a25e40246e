// Devices with online/offline and last seen, a page at a time, found by name or id; admins add
// devices here and get the secret once.
import { describeError } from '../../api/errors.js'
import type { Device } from '../../api/types.js'
import { debounced } from '../../app/debounce.js'
import { field, h, notice, replace, say } from '../../app/dom.js'
import { formatAgo, formatTime } from '../../app/format.js'
import { pager } from '../../app/pager.js'
import type { View, ViewContext } from '../../app/router.js'
import { LiveStream } from '../../live/stream.js'
import { streamBadge } from '../stream-badge.js'
import { credentialsPanel } from './credentials.js'

const REFRESH_MS = 15_000
const PAGE_SIZE = 50

function presenceBadge(d: Device): HTMLElement {
  if (!d.enabled) return h('span', { class: 'badge badge--disabled' }, 'disabled')
  return d.presence?.online ? h('span', { class: 'badge badge--online' }, 'online') : h('span', { class: 'badge badge--offline' }, 'offline')
}

function row(d: Device): HTMLTableRowElement {
  const seen = d.presence?.lastSeenAt ?? null
  return h('tr', { 'data-device-id': d.id },
    h('th', { scope: 'row' }, d.name),
    h('td', {}, h('code', {}, d.id)),
    h('td', {}, presenceBadge(d)),
    h('td', { title: formatTime(seen) }, formatAgo(seen)),
    h('td', {}, formatTime(d.presence?.lastFixAt)))
}

export function devicesView(ctx: ViewContext): View {
  const body = h('tbody')
  const error = notice('error')
  const created = h('div')
  const stream = streamBadge()
  const q = h('input', { type: 'search', name: 'q', placeholder: 'name or id', value: ctx.search.get('q') ?? '' })
  const pages = pager(PAGE_SIZE, () => { void load() })
  /** answers can arrive out of order (a slow search, then a fast one): only the latest read is shown */
  let latest = 0

  async function load(): Promise<void> {
    const asked = ++latest
    const search = q.value.trim()
    try {
      const page = await ctx.api.devices({ q: search || undefined, limit: PAGE_SIZE, offset: pages.offset })
      if (asked !== latest) return
      const empty = search ? 'No device matches.' : 'No devices yet.'
      replace(body, ...(page.items.length ? page.items.map(row) : [h('tr', {}, h('td', { colspan: 5 }, empty))]))
      pages.show(page.items.length, page.total)
      say(error, null)
    } catch (err) {
      if (asked === latest) say(error, describeError(err))
    }
  }

  function createForm(): HTMLElement {
    const name = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off', placeholder: 'e.g. IMEI 356938035643809' })
    const formError = notice('error')
    const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Create device')
    const form = h('form', { class: 'card inline-form', 'aria-labelledby': 'create-title' },
      h('h2', { id: 'create-title' }, 'Add a device'), field('Device name', name), formError, submit)
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      submit.disabled = true
      say(formError, null)
      Promise.all([ctx.api.createDevice(name.value.trim()), ctx.api.config()])
        .then(([credentials, config]) => {
          form.reset()
          replace(created, credentialsPanel(credentials, { host: window.location.hostname, port: config.mqtt.port }, () => replace(created)))
          created.querySelector('h2')?.setAttribute('tabindex', '-1')
          created.querySelector<HTMLElement>('h2')?.focus()
          void load()
        })
        .catch((err: unknown) => say(formError, describeError(err)))
        .finally(() => { submit.disabled = false })
    })
    return form
  }

  // presence changes come as events; last-seen times drift, so a slow poll keeps them honest. A
  // fleet reconnecting sends hundreds of events at once: one reload after they settle, not one each
  const reloadSoon = debounced(() => { void load() }, 500)
  q.addEventListener('input', () => {
    pages.reset()
    history.replaceState(null, '', `/devices${q.value.trim() ? `?${new URLSearchParams({ q: q.value.trim() }).toString()}` : ''}`)
    reloadSoon()
  })
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Find devices', onsubmit: (e: Event) => { e.preventDefault(); void load() } },
    field('Name or id', q))
  const live = new LiveStream(ctx.session, { types: ['device_online', 'device_offline'] }, { state: stream.set, tracking: reloadSoon })
  const poll = setInterval(() => { void load() }, REFRESH_MS)
  void load()

  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Devices'),
    h('thead', {}, h('tr', {}, ...['Name', 'Id', 'Connection', 'Last seen', 'Last fix'].map((t) => h('th', { scope: 'col' }, t)))),
    body)
  return {
    title: 'Devices',
    element: h('section', { class: 'page' },
      h('div', { class: 'panel-head' }, h('h1', {}, 'Devices'), stream.element),
      ctx.session.isAdmin ? createForm() : null, created, filters, error, h('div', { class: 'table-wrap' }, table), pages.element),
    dispose() { live.close(); clearInterval(poll); reloadSoon.cancel() },
  }
}
