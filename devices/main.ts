// `npm run simulate -- [flags]`: fleets of virtual trackers over MQTT. See docs/simulator.md.
import { ConfigError, parseConfig } from './config.js'
import { helpText } from './flags.js'
import { RunInterrupted, runSimulation } from './run.js'
import { summaryText } from './stats.js'

/** Exit codes (docs/simulator.md): 130 is the shell's convention for "stopped by Ctrl-C". */
const EXIT = { ok: 0, failed: 1, badFlags: 2, interrupted: 130 } as const

async function main(argv: string[]): Promise<number> {
  let config
  try {
    config = parseConfig(argv)
  } catch (err) {
    return badFlags(err)
  }
  if (config.help) { process.stdout.write(helpText() + '\n'); return EXIT.ok }
  if (config.localDemo) process.stderr.write(`simulate: no credentials given: provisioning as ${config.localDemo.email} of the local embedded ReTrack (password from ${config.localDemo.passwordFile})\n`)
  let summary
  try {
    ({ summary } = await runSimulation(config, { log: (line) => process.stderr.write(line + '\n') }))
  } catch (err) {
    // checks of files and routes run before anything is created: still bad flags
    if (err instanceof ConfigError) return badFlags(err)
    if (!(err instanceof RunInterrupted)) throw err
    process.stderr.write(`simulate: ${err.message}\n`)
    return EXIT.interrupted
  }
  process.stderr.write(summaryText(summary) + '\n')
  if (config.json) process.stdout.write(JSON.stringify(summary) + '\n')
  if (summary.devices > 0 && summary.everConnected === 0) {
    // a run in which nothing ever connected did nothing: a script must not take it for a success
    const why = summary.connectionProblems[0] ?? 'no error was reported'
    process.stderr.write(`simulate: no device ever connected to ${config.url} during the run (first problem: ${why})\n`)
    return EXIT.failed
  }
  return EXIT.ok
}

function badFlags(err: unknown): number {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`simulate: ${err.message}\n(see --help)\n`)
  return EXIT.badFlags
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = EXIT.failed
})
