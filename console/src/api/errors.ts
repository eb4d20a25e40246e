// Every API failure has one shape ({ statusCode, code, message }); the console shows `message`
// to people and branches on `code`.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

export async function apiErrorOf(response: Response): Promise<ApiError> {
  let body: unknown = null
  try { body = await response.json() } catch { /* not JSON: a proxy's page, say */ }
  const code = isRecord(body) && typeof body['code'] === 'string' ? body['code'] : `HTTP_${response.status}`
  const message = isRecord(body) && typeof body['message'] === 'string' ? body['message'] : `${response.status} ${response.statusText}`
  return new ApiError(response.status, code, message)
}

/**
 * fetch, with a network failure (node down, connection lost) turned into an ApiError a person can
 * read: browsers reject with a bare TypeError ("Failed to fetch", "Load failed"…).
 */
export async function fetchOrOffline(input: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init)
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'NETWORK', 'The ReTrack server could not be reached: check the network connection, then try again.')
  }
}

/** Words for a person, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Not allowed: ${err.message}`
    return err.message
  }
  if (err instanceof Error) return err.message
  return String(err)
}
