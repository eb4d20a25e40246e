// Generated documents must match the code they come from (run `npm run docs:generate`).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configurationDoc, readmeWithConfig, schemaFiles } from '../../scripts/generate-docs.js'
import { fromRoot } from '../../src/paths.js'
import { describeConfig } from '../../src/config.js'

describe('generated documentation is current', () => {
  it('docs/configuration.md lists every setting', () => {
    expect(readFileSync(fromRoot('docs/configuration.md'), 'utf8')).toBe(configurationDoc())
  })

  it('the README configuration table lists every setting', () => {
    const readme = readFileSync(fromRoot('README.md'), 'utf8')
    expect(readme).toBe(readmeWithConfig(readme))
    for (const { key } of describeConfig()) expect(readme).toContain(`\`${key}\``)
  })

  it.each(Object.entries(schemaFiles()))('docs/schemas/%s matches src/contracts/schemas.ts', (name, text) => {
    expect(readFileSync(fromRoot('docs/schemas', name), 'utf8')).toBe(text)
  })
})
