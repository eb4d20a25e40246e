// Where sign-in goes next: the `next` of /login?next=…, which comes from the address bar.

const BASE = 'http://console.invalid'
/**
 * Only a path inside the console: `next` comes from the address bar. Resolved as the browser would
 * (`/\host` is another origin for it, and history.replaceState would throw after a good sign-in).
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/')) return '/map'
  try {
    const url = new URL(next, BASE)
    return url.origin === BASE ? `${url.pathname}${url.search}${url.hash}` : '/map'
  } catch {
    return '/map'
  }
}
