// `npm run simulate -- [flags]`: fleets of virtual trackers over MQTT. See docs/simulator.md.
import { ConfigError, parseConfig } from './config.js'
import { helpText } from './flags.js'
import { runSimulation } from './run.js'
import { summaryText } from './stats.js'

async function main(argv: string[]): Promise<number> {
  let config
  try {
    config = parseConfig(argv)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`simulate: ${err.message}\n(see --help)\n`)
    return 2
  }
  if (config.help) { process.stdout.write(helpText() + '\n'); return 0 }
  if (config.localDemo) process.stderr.write(`simulate: no credentials given: provisioning as ${config.localDemo.email} of the local embedded ReTrack (password from ${config.localDemo.passwordFile})\n`)
  const { summary } = await runSimulation(config, { log: (line) => process.stderr.write(line + '\n') })
  process.stderr.write(summaryText(summary) + '\n')
  if (config.json) process.stdout.write(JSON.stringify(summary) + '\n')
  return 0
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
