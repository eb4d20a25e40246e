// What PostgreSQL cannot store, checked before a value is written: in a group-commit batch one such
// row fails every row of the batch (other devices' readings too), in an API request it is a 500.
// - U+0000: refused by text and jsonb.
// - A UTF-16 surrogate without its pair: jsonb refuses its JSON escape (and text would quietly store
//   U+FFFD in its place).
// - Nesting without bound: jsonb and JSON.stringify recurse, and so does the check itself.

/** Deepest nesting of objects and arrays a stored value may have. */
export const MAX_DEPTH = 32

const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const unstorableText = (text: string) => text.includes('\u0000') || unpairedSurrogate.test(text)

/** Where in the value (`/a/0/b`, '' for the value itself) and what is wrong there. */
export interface Unstorable { path: string, reason: string }

/**
 * The first thing in `value` PostgreSQL could not store, or null. `text: false` skips the string
 * checks, for JSON known to hold no `\u` escape (the only way these characters get into it).
 * Buffers are raw bytes, stored as such.
 */
export function unstorable(value: unknown, options: { text?: boolean } = {}, path = '', depth = 0): Unstorable | null {
  const text = options.text ?? true
  if (typeof value === 'string') return text && unstorableText(value) ? { path, reason: 'contains U+0000 or an unpaired surrogate' } : null
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return null
  if (depth >= MAX_DEPTH) return { path, reason: `is nested deeper than ${MAX_DEPTH} levels` }
  for (const [key, item] of Object.entries(value)) {
    if (text && unstorableText(key)) return { path, reason: 'has a key that contains U+0000 or an unpaired surrogate' }
    const found = unstorable(item, options, `${path}/${key}`, depth + 1)
    if (found) return found
  }
  return null
}
