// How a refused payload is shown: as text when it is UTF-8 text, else as base64, and never more
// than a bounded prefix, so one large payload (up to the 64 KiB the database keeps) cannot blow up
// a page of 500. Text with control characters goes as base64 too: such bytes are not text anyone
// typed, and JSON would escape each one into six characters.
import { isUtf8 } from 'node:buffer'
import { DEAD_LETTER_PAYLOAD_LIMIT } from '../../../db/dead-letters.js'

/** What a list shows of each payload; GET /dead-letters/{id} shows the whole stored copy. */
export const LIST_PAYLOAD_BYTES = 4 * 1024

// C0 controls and DEL, except tab, LF and CR
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/

export interface PayloadView {
  payload: string
  payloadEncoding: 'utf8' | 'base64'
  payloadBytes: number
  payloadTruncated: boolean
}

/** Length of `bytes` without a UTF-8 sequence the cut left incomplete at its end. */
function wholeCharacters(bytes: Buffer): number {
  // a sequence is at most 4 bytes: its lead byte is among the last 4
  for (let i = bytes.length - 1; i >= Math.max(0, bytes.length - 4); i--) {
    const b = bytes[i]!
    if ((b & 0xc0) === 0x80) continue // a continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return i + need > bytes.length ? i : bytes.length
  }
  return bytes.length
}

/**
 * `shown` is the start of a payload of `storedBytes` bytes (all of it, or the first bytes the query
 * took). A payload stored at exactly the writer's limit was cut when stored (it is reported so,
 * though it may have been exactly that long).
 */
export function payloadView(shown: Buffer, storedBytes: number, maxBytes: number): PayloadView {
  const cutHere = storedBytes > maxBytes || shown.length < storedBytes
  const prefix = shown.subarray(0, maxBytes)
  const truncated = cutHere || storedBytes >= DEAD_LETTER_PAYLOAD_LIMIT
  // a cut can fall inside a character: judge (and show) the text up to the last whole one
  const text = truncated ? prefix.subarray(0, wholeCharacters(prefix)) : prefix
  if (isUtf8(text)) {
    const decoded = text.toString('utf8')
    if (!CONTROL.test(decoded)) return { payload: decoded, payloadEncoding: 'utf8', payloadBytes: storedBytes, payloadTruncated: truncated }
  }
  return { payload: prefix.toString('base64'), payloadEncoding: 'base64', payloadBytes: storedBytes, payloadTruncated: truncated }
}
