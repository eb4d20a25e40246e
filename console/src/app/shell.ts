// The frame around every signed-in view: a header with the navigation and who is signed in.
import { h } from './dom.js'
import type { SessionUser } from '../api/types.js'

const NAV = [
  { path: '/map', label: 'Live map' },
  { path: '/shipments', label: 'Shipments' },
  { path: '/devices', label: 'Devices' },
] as const

export interface Shell { root: HTMLElement, main: HTMLElement }

export function createShell(user: SessionUser, currentPath: string, onSignOut: () => void): Shell {
  const links = NAV.map(({ path, label }) => {
    const current = currentPath === path || currentPath.startsWith(`${path}/`)
    return h('li', {}, h('a', { href: path, class: 'nav__link', 'aria-current': current ? 'page' : null }, label))
  })
  const header = h('header', { class: 'topbar' },
    h('a', { href: '/map', class: 'brand', 'aria-label': 'ReTrack console home' }, 'ReTrack'),
    h('nav', { 'aria-label': 'Main' }, h('ul', { class: 'nav' }, ...links)),
    h('div', { class: 'whoami' },
      h('span', { class: 'whoami__user' }, user.email),
      h('span', { class: `badge badge--role-${user.role}`, title: 'your role' }, user.role),
      h('span', { class: 'whoami__tenant', title: 'tenant' }, user.tenant.name || user.tenant.slug),
      h('button', { type: 'button', class: 'button button--quiet', onclick: onSignOut }, 'Sign out')))
  const main = h('main', { id: 'main', class: 'main', tabindex: -1 })
  return { root: h('div', { class: 'app' }, h('a', { href: '#main', class: 'skip-link' }, 'Skip to content'), header, main), main }
}
