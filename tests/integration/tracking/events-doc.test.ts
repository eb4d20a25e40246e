// docs/events.md is generated from the event catalogue; a stale committed copy fails here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { eventsDoc } from '../../../scripts/generate-events-doc.js'
import { EVENT_TYPES } from '../../../src/core/events/catalogue.js'
import { fromRoot } from '../../../src/paths.js'

describe('docs/events.md', () => {
  it('matches the catalogue (regenerate with npx tsx scripts/generate-events-doc.ts)', () => {
    const doc = readFileSync(fromRoot('docs/events.md'), 'utf8')
    expect(doc).toBe(eventsDoc())
    for (const e of EVENT_TYPES) expect(doc).toContain(`| \`${e.type}\` | ${e.source} |`)
  })
})
