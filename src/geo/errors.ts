// Geometry refusals carry a stable code (and the path of the offending value) so the API can map
// them to a 400 without parsing messages. The geometry core imports nothing from the app, so it has
// its own error class instead of src/errors.ts.

export type GeoErrorCode =
  | 'INVALID_GEOMETRY' // wrong GeoJSON structure or type for the kind
  | 'INVALID_POSITION' // not a finite [lon, lat] inside the WGS84 ranges
  | 'INVALID_RADIUS'
  | 'INVALID_WIDTH'
  | 'UNSUPPORTED_KIND'
  | 'TOO_WIDE' // spans 180° of longitude or more, or a ring winds around a pole
  | 'DUPLICATE_ID'

export class GeoError extends Error {
  override readonly name = 'GeoError'
  constructor(
    readonly code: GeoErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message)
  }
}
