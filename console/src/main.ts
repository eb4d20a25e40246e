// Boots the console: one session, one API client, and the router that swaps views inside the shell.
import './styles/app.css'
import { Session } from './api/session.js'
import { Http } from './api/http.js'
import { createEndpoints } from './api/endpoints.js'
import { describeError } from './api/errors.js'
import { h, replace } from './app/dom.js'
import { inAppHref, match, type RouteDef, type View } from './app/router.js'
import { createShell } from './app/shell.js'
import { loginView } from './views/login.js'
import { mapView } from './views/map/index.js'
import { shipmentsView } from './views/shipments/list.js'
import { shipmentView } from './views/shipments/detail.js'
import { devicesView } from './views/devices/list.js'

const routes: RouteDef[] = [
  { path: '/login', view: loginView, public: true },
  { path: '/map', view: mapView },
  { path: '/shipments', view: shipmentsView },
  { path: '/shipments/:id', view: shipmentView },
  { path: '/devices', view: devicesView },
]

const root = document.getElementById('app')!
const session = new Session(window.sessionStorage)
const api = createEndpoints(new Http(session))
let current: View | null = null
let rendering = 0
/** who the current page was drawn for ("id:role"), so a role change redraws it with the right actions */
let drawnFor: string | null = null
const whoIs = (user: { id: string, role: string } | null) => (user ? `${user.id}:${user.role}` : null)

function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  void render()
}

async function render(): Promise<void> {
  const token = ++rendering
  const { pathname, search } = window.location
  if (pathname === '/' || pathname === '') return navigate('/map', { replace: true })
  const found = match(routes, pathname)
  if (found && !found.def.public && !session.user) return navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true })

  current?.dispose?.()
  current = null
  const user = session.user
  drawnFor = found && !found.def.public ? whoIs(user) : null
  const shell = user && found && !found.def.public ? createShell(user, pathname, () => { void session.logout() }) : null
  const outlet = shell?.main ?? h('main', { id: 'main', class: 'main main--bare', tabindex: -1 })
  replace(root, shell?.root ?? outlet)
  if (!found) {
    document.title = 'Not found · ReTrack'
    replace(outlet, h('h1', {}, 'Not found'), h('p', {}, 'No such page. '), h('a', { href: '/map' }, 'Back to the map'))
    return
  }
  try {
    const view = await found.def.view({ session, api, params: found.params, search: new URLSearchParams(search), navigate })
    if (token !== rendering) { view.dispose?.(); return } // the user moved on while it loaded
    current = view
    document.title = `${view.title} · ReTrack`
    replace(outlet, view.element)
    // a new page: move focus to its heading region so screen readers start there
    outlet.focus({ preventScroll: true })
  } catch (err) {
    replace(outlet, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, describeError(err)))
  }
}

document.addEventListener('click', (event) => {
  const path = inAppHref(event)
  if (path === null) return
  event.preventDefault()
  if (path !== window.location.pathname + window.location.search) navigate(path)
})
window.addEventListener('popstate', () => { void render() })
// signed out (here, or because the refresh token was refused): back to the login page; the role
// changed (a refresh brought the new one): the page again, with what the new role may do
session.onChange((user) => {
  if (!user) navigate('/login', { replace: true })
  else if (drawnFor !== null && drawnFor !== whoIs(user)) void render()
})
void render()
