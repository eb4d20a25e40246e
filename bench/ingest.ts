// bench:ingest — end-to-end QoS 1 ingestion through the whole pipeline (auth, validation, filter
// stages, geofences and milestones, Redis state, positions durable in PostgreSQL before the
// PUBACK) vs a bare Aedes broker doing nothing, same load generator, same run.
//   npm run bench:ingest [-- --runs 3 --seconds 8 --devices 100 --window 16 --client raw|mqttjs --profile --alloc-profile --only retrack --paced-rate N]
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { median } from './lib/stats.js'
import { table, printVerdicts, verdict } from './lib/report.js'
import { REDIS_URL, createFixture, runLoad } from './ingest/setup.js'
import { startChild } from './lib/children.js'
import { runBench } from './lib/cleanup.js'
import { summarizeProfile } from './ingest/profile.js'
import { freePort, sampleAllocations } from './ingest/alloc-profile.js'
import { pidsOf, since, snapshot } from './ingest/cpu.js'
import { percentileOf, scrapeHistogram } from './ingest/histogram.js'
import { execFileSync } from 'node:child_process'
import { fromRoot } from '../src/paths.js'

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '8' }, devices: { type: 'string', default: '100' },
  window: { type: 'string', default: '16' }, client: { type: 'string', default: 'raw' }, profile: { type: 'boolean', default: false },
  'alloc-profile': { type: 'boolean', default: false }, // one more paced run, its allocations sampled through the inspector
  only: { type: 'string' }, // 'retrack' skips the baseline (for profiling)
  'paced-rate': { type: 'string' }, // msg/s of the latency phase instead of half the measured rate (for comparisons)
} })
if (values.client !== 'raw' && values.client !== 'mqttjs') throw new Error(`--client must be raw or mqttjs, not ${values.client}`)
const runs = Number(values.runs), seconds = Number(values.seconds), deviceCount = Number(values.devices), window = Number(values.window)

await runBench(async () => {
  const fixture = await createFixture(deviceCount)
  const prefix = `retrack-bench:${randomBytes(3).toString('hex')}:`
  const profileDir = values.profile ? `bench/results/profile-${Date.now()}` : null
  const inspectPort = values['alloc-profile'] ? await freePort() : null
  // production-like: the compiled server, not TypeScript through a loader
  console.error('building dist/ …')
  execFileSync(process.execPath, [fromRoot('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: fromRoot(), stdio: 'inherit' })
  const retrack = await startChild('retrack', 'dist/src/main.js', { ready: /"http":(\d+),"mqtt":(\d+)/, env: {
    DATABASE_URL: fixture.url, REDIS_URL, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'info', LOG_PRETTY: 'false', NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'), HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_HOST: '127.0.0.1', MQTT_PORT: '0',
    OFFLINE_SWEEP_S: '3600', MQTT_CLUSTER: process.env.MQTT_CLUSTER ?? 'off',
    // RETRACK_BENCH_ENV='{"INGEST_BATCH_MAX":"250"}' tries other settings without editing this file
    ...(process.env.RETRACK_BENCH_ENV ? JSON.parse(process.env.RETRACK_BENCH_ENV) as Record<string, string> : {}),
  }, nodeFlags: [
    // flags as in `npm start`; RETRACK_BENCH_NODE_FLAGS='--max-semi-space-size=16' tries others
    ...(process.env.RETRACK_BENCH_NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean),
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
  ] })
  const bare = await startChild('bare broker', 'bench/ingest/bare-broker.ts', { ready: /"port":(\d+)/ })
  const ports = { retrack: Number(retrack.match[2]), bare: Number(bare.match[1]) }

  let epoch = Date.now() - 6 * 86_400_000 // every run's readings are newer than the last run's
  const cpuGroups = { retrack: () => [retrack.child.pid], postgres: () => pidsOf('postgres:'), redis: () => pidsOf('redis-server') }
  const cpuShares: Array<Record<string, number>> = []
  const load = async (port: number, rate: number, probe = false) => {
    epoch += 12 * 3_600_000
    let before: Record<string, number> = {}
    const timer = setTimeout(() => { before = snapshot(cpuGroups) }, 2000 + 100)
    const result = await runLoad({
      host: '127.0.0.1', port, tenant: fixture.tenant.slug, devices: fixture.devices, window, rate, client: values.client as 'raw' | 'mqttjs', warmupMs: 2000, durationMs: seconds * 1000, baseTs: epoch,
      ...(probe ? { probe: { redisUrl: REDIS_URL, keyPrefix: prefix, tenantId: fixture.tenant.id } } : {}),
    })
    clearTimeout(timer)
    if (port === ports.retrack && rate === 0) cpuShares.push({ ...since(before, snapshot(cpuGroups), seconds), loadgen: result.cpuCores })
    return result
  }

  const results: Record<'bare' | 'retrack', number[]> = { bare: [], retrack: [] }
  const p99: Record<'bare' | 'retrack', number[]> = { bare: [], retrack: [] }
  for (let r = 0; r < runs; r++) {
    for (const target of values.only === 'retrack' ? ['retrack'] as const : ['bare', 'retrack'] as const) {
      const res = await load(ports[target], 0)
      results[target].push(res.rate)
      p99[target].push(res.p99Ms)
      console.error(`run ${r + 1}/${runs} ${target.padEnd(7)} ${Math.round(res.rate)} msg/s  PUBACK p50 ${res.p50Ms.toFixed(1)} ms p99 ${res.p99Ms.toFixed(1)} ms`)
    }
  }
  const bareRate = results.bare.length ? median(results.bare) : NaN, retrackRate = median(results.retrack)
  const half = values['paced-rate'] ? Number(values['paced-rate']) : Math.round(retrackRate / 2)
  const metrics = async () => (await fetch(`http://127.0.0.1:${Number(retrack.match[1])}/metrics`)).text()
  await new Promise((r) => setTimeout(r, 3000)) // let the full-rate backlog drain first
  // the paced phase, as many times as the full-rate one: p99s of single runs vary a lot here
  const pacedRuns: Array<Awaited<ReturnType<typeof load>> & { loopP99: number, loopMax: number, serverP99: number }> = []
  for (let r = 0; r < runs; r++) {
    const before = scrapeHistogram(await metrics(), 'retrack_pipeline_latency_seconds') // also resets the event-loop delay histogram
    const paced = await load(ports.retrack, half, true)
    const text = await metrics()
    const after = scrapeHistogram(text, 'retrack_pipeline_latency_seconds')
    const loopMs = (stat: string) => 1000 * Number(new RegExp(`^retrack_nodejs_eventloop_lag_${stat}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN)
    pacedRuns.push({ ...paced, loopP99: loopMs('p99'), loopMax: loopMs('max'), serverP99: percentileOf(before, after, 0.99) * 1000 })
    console.error(`paced run ${r + 1}/${runs}: ${Math.round(paced.rate)} msg/s  publish→state p50 ${paced.stateP50Ms?.toFixed(1)} ms p99 ${paced.stateP99Ms?.toFixed(1)} ms  PUBACK p99 ${paced.p99Ms.toFixed(1)} ms  event-loop delay p99 ${loopMs('p99').toFixed(1)} ms (generator's ${paced.loopP99Ms.toFixed(1)} ms)`)
  }
  const pm = (f: (p: typeof pacedRuns[number]) => number | null) => median(pacedRuns.map((p) => f(p) ?? Infinity))
  const stateP99 = pm((p) => p.stateP99Ms)

  console.log(`\nbench:ingest — ${deviceCount} publishers (${values.client === 'mqttjs' ? 'mqtt.js clients' : 'raw mqtt-packet sockets'}), QoS 1, ~150-byte readings, ${window} in flight each, ${runs} runs of ${seconds} s (medians)\n`)
  console.log(table(['target', 'msg/s', 'PUBACK p99 ms', 'ratio vs bare'], [
    ['bare Aedes 1.2 (baseline)', Math.round(bareRate), median(p99.bare).toFixed(1), '1.00'],
    ['ReTrack full pipeline', Math.round(retrackRate), median(p99.retrack).toFixed(1), (retrackRate / bareRate).toFixed(2)],
  ]))
  console.log(`\nat half the sustained rate (${half} msg/s offered; ${runs} runs of ${seconds} s, medians): PUBACK p50 ${pm((p) => p.p50Ms).toFixed(1)} ms, p99 ${pm((p) => p.p99Ms).toFixed(1)} ms; ` +
    `publish→state p50 ${pm((p) => p.stateP50Ms).toFixed(1)} ms, p99 ${stateP99.toFixed(1)} ms (runs ${pacedRuns.map((p) => p.stateP99Ms?.toFixed(1)).join(' / ')}; ~${pm((p) => p.probed)} probes each); ` +
    `server-side receipt→state p99 ≤ ${pm((p) => p.serverP99)} ms (histogram bucket); ` +
    `ReTrack's event-loop delay p99 ${pm((p) => p.loopP99).toFixed(1)} ms, max ${pm((p) => p.loopMax).toFixed(1)} ms; the generator's own p99 ${pm((p) => p.loopP99Ms).toFixed(1)} ms`)
  const cpu = cpuShares.at(-1)
  if (cpu) console.log(`\nCPU during a full-rate ReTrack run (cores; the machine has 2): ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`)
  const ok = printVerdicts([
    verdict('throughput ≥ 60% of bare QoS 1', retrackRate >= 0.6 * bareRate, `${(100 * retrackRate / bareRate).toFixed(0)}% (${Math.round(retrackRate)} vs ${Math.round(bareRate)} msg/s)`),
    verdict('p99 publish→state < 50 ms at half rate', stateP99 < 50, `${stateP99.toFixed(1)} ms (median of ${runs} runs)`),
  ])
  if (inspectPort) {
    // after the measured runs: sampling slows the process, so its latencies are not reported
    // per message: ÷ the readings the server accepted while it was sampled (its own counter), not
    // ÷ the generator's rate over its longer window
    const accepted = async () => Number(/^retrack_readings_accepted_total\{[^}]*\} (\S+)/m.exec(await metrics())?.[1])
    const [paced, { bytes, counted, summary }] = await Promise.all([
      load(ports.retrack, half),
      new Promise((r) => setTimeout(r, 3000)).then(() => sampleAllocations(inspectPort, 4000, accepted)), // past the generator's warm-up
    ])
    console.log(`\nallocations of the ReTrack process over 4 s at ${Math.round(counted / 4)} msg/s accepted (the generator's run: ${Math.round(paced.rate)}): ${(bytes / counted / 1024).toFixed(1)} KB per message, freed or not\n${summary}`)
  }
  // the CPU profile is written as the process exits: give it time to drain and write it
  await retrack.child.stop(60_000)
  if (profileDir) console.log(`\nCPU profile of the ReTrack process (self time):\n${await summarizeProfile(profileDir)}`)
  return ok // as every bench: a missed target is a failing exit, after the numbers
})
