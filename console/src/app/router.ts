// History-API routing: the server answers every console path with index.html, and this maps the
// path to a view. A view owns its element and whatever it opened (streams, maps, timers); the
// router disposes of it before mounting the next.
import type { Session } from '../api/session.js'
import type { Endpoints } from '../api/endpoints.js'

export interface View {
  title: string
  element: HTMLElement
  dispose?(): void
}

export interface ViewContext {
  session: Session
  api: Endpoints
  params: Record<string, string>
  search: URLSearchParams
  navigate(path: string, options?: { replace?: boolean }): void
}

export type ViewFactory = (ctx: ViewContext) => View | Promise<View>

export interface RouteDef {
  path: string
  view: ViewFactory
  /** reachable signed out (the login page) */
  public?: boolean
}

interface Compiled { def: RouteDef, pattern: RegExp, names: string[] }

function compile(def: RouteDef): Compiled {
  const names: string[] = []
  const source = def.path.replace(/:(\w+)/g, (_, name: string) => { names.push(name); return '([^/]+)' })
  return { def, pattern: new RegExp(`^${source}/?$`), names }
}

export function match(routes: RouteDef[], pathname: string): { def: RouteDef, params: Record<string, string> } | null {
  for (const route of routes.map(compile)) {
    const found = route.pattern.exec(pathname)
    if (!found) continue
    const params: Record<string, string> = {}
    route.names.forEach((name, i) => { params[name] = decodeURIComponent(found[i + 1] ?? '') })
    return { def: route.def, params }
  }
  return null
}

/** A click on an in-app link: handled here unless the user asked for a new tab or window. */
export function inAppHref(event: MouseEvent): string | null {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null
  const target = event.target instanceof Element ? event.target.closest('a') : null
  if (!target || target.target || target.hasAttribute('download') || target.origin !== window.location.origin) return null
  if (target.getAttribute('href')?.startsWith('#')) return null // in-page anchors (the skip link)
  const path = target.pathname
  // the API, its docs and the metrics are the server's, not the console's
  if (/^\/(api|docs|openapi\.json|metrics|health|ready)(\/|$)/.test(path)) return null
  return path + target.search
}
