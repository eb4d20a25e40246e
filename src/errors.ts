// Errors that carry a stable code (for clients and logs) and the HTTP status they map to.
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`)
export const badRequest = (message: string, details?: unknown) => new AppError(400, 'BAD_REQUEST', message, details)
export const conflict = (message: string) => new AppError(409, 'CONFLICT', message)
export const forbidden = (message = 'your role does not allow this') => new AppError(403, 'FORBIDDEN', message)
export const unauthorized = (message = 'authentication required') => new AppError(401, 'UNAUTHORIZED', message)
