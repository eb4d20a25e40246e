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

/** Words for a person, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Not allowed: ${err.message}`
    return err.message
  }
  if (err instanceof Error) return err.message
  return String(err)
}
