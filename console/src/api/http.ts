// JSON over fetch with the session's bearer token. A 401 gets one retry after a refresh (the token
// may have expired between the check and the request); anything else non-2xx becomes an ApiError.
import { apiErrorOf, fetchOrOffline } from './errors.js'
import type { Session } from './session.js'

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export class Http {
  constructor(private readonly session: Session) {}

  async request<T>(method: Method, path: string, body?: object): Promise<T> {
    const send = (token: string) => fetchOrOffline(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    let response = await send(await this.session.accessToken())
    if (response.status === 401) response = await send(await this.session.refresh())
    if (!response.ok) throw await apiErrorOf(response)
    if (response.status === 204) return null as T
    // the API's own answers: trusted to match docs/api.md, as the types above describe them
    const parsed: unknown = await response.json()
    return parsed as T
  }

  get<T>(path: string): Promise<T> { return this.request<T>('GET', path) }
  post<T>(path: string, body?: object): Promise<T> { return this.request<T>('POST', path, body ?? {}) }
}

/** `?a=1&b=2&b=3` from a record; undefined and empty values are left out, arrays repeat the key. */
export function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') continue
    if (Array.isArray(value)) for (const v of value) search.append(key, v)
    else search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}
