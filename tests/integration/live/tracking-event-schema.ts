// The contract's JSON Schema of a tracking event (docs/schemas/tracking-event.json), compiled once for
// the live suites: what the stream and the MQTT event topics send must match it.
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { trackingEventSchema } from '../../../src/contracts/schemas.js'

const ajv = addFormats.default(new Ajv({ strict: true, allErrors: true }))
export const validTrackingEvent = ajv.compile(JSON.parse(JSON.stringify(trackingEventSchema)) as object)
