// Fleet-wide counters, the periodic progress line (stderr) and the final summary (text on stderr,
// JSON on stdout with --json).

export class FleetCounters {
  connected = 0
  peakConnected = 0
  connects = 0
  refused = 0
  errors = 0
  sent = 0
  acked = 0
  failed = 0
}

export interface Summary {
  devices: number
  /** connected when the run ended, before the simulator disconnected them */
  connected: number
  peakConnected: number
  everConnected: number
  connects: number
  refused: number
  errors: number
  sent: number
  acked: number
  failedPublishes: number
  /** produced but never sent: still in the devices' offline buffers when the run ended */
  unsent: { readings: number, events: number }
  /** the first report of each kind of connection problem (refusal, I/O error, lost connection) */
  connectionProblems: string[]
  wallSeconds: number
  allConnectedAfterS: number | null
  achievedRate: number
  cpuSeconds: { user: number, system: number }
  rssMB: { end: number, peak: number }
  simulated: { start: string, end: string, clamped: boolean }
  seed: number
  /**
   * With a login: the devices that sent readings whose last fix in ReTrack did not move during the
   * run (ReTrack dropped what they sent), one line each; null without a login (not checked).
   */
  notAdvancedOnServer: string[] | null
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10

export class Progress {
  private lastSent = 0
  private lastAt = performance.now()
  peakRss = 0

  constructor(private readonly counters: FleetCounters) {}

  sampleRss() {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss())
  }

  line(extra: { devices: number, waiting: number, buffered: number, lagS: number, simNow: number, clamped: boolean }): string {
    const c = this.counters
    const now = performance.now()
    const rate = ((c.sent - this.lastSent) * 1000) / Math.max(1, now - this.lastAt)
    this.lastSent = c.sent
    this.lastAt = now
    this.sampleRss()
    return `[sim ${new Date(extra.simNow).toISOString().slice(0, 19)}Z${extra.clamped ? ' CLAMPED' : ''}] connected ${c.connected}/${extra.devices}` +
      ` (waiting ${extra.waiting}) sent ${c.sent} acked ${c.acked} refused ${c.refused} errors ${c.errors}` +
      ` rate ${Math.round(rate)}/s buffered ${extra.buffered} lag ${Math.round(extra.lagS)}s rss ${mb(process.memoryUsage.rss())}MB`
  }
}

export function summarize(input: {
  counters: FleetCounters, devices: number, everConnected: number, connectedAtEnd: number, wallMs: number, allConnectedAfterMs: number | null,
  unsent: Summary['unsent'], connectionProblems: string[],
  cpu: NodeJS.CpuUsage, peakRss: number, simStart: number, simEnd: number, clamped: boolean, seed: number,
  notAdvancedOnServer: string[] | null,
}): Summary {
  const c = input.counters
  const wallSeconds = input.wallMs / 1000
  return {
    devices: input.devices, connected: input.connectedAtEnd, peakConnected: c.peakConnected, everConnected: input.everConnected, connects: c.connects,
    refused: c.refused, errors: c.errors, sent: c.sent, acked: c.acked, failedPublishes: c.failed,
    unsent: input.unsent, connectionProblems: input.connectionProblems,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    allConnectedAfterS: input.allConnectedAfterMs === null ? null : Math.round(input.allConnectedAfterMs / 100) / 10,
    achievedRate: Math.round(c.sent / Math.max(wallSeconds, 0.001)),
    cpuSeconds: { user: Math.round(input.cpu.user / 1e4) / 100, system: Math.round(input.cpu.system / 1e4) / 100 },
    rssMB: { end: mb(process.memoryUsage.rss()), peak: mb(Math.max(input.peakRss, process.memoryUsage.rss())) },
    simulated: { start: new Date(input.simStart).toISOString(), end: new Date(input.simEnd).toISOString(), clamped: input.clamped },
    seed: input.seed,
    notAdvancedOnServer: input.notAdvancedOnServer,
  }
}

export function summaryText(s: Summary): string {
  return [
    `devices ${s.devices}: connected ${s.connected} when the run ended (peak ${s.peakConnected}, ever ${s.everConnected}, all after ${s.allConnectedAfterS ?? '—'} s), connects ${s.connects}, refused ${s.refused}, errors ${s.errors}`,
    `published ${s.sent}, acked ${s.acked} (PUBACKs), failed ${s.failedPublishes}, ${s.achievedRate} msg/s over ${s.wallSeconds} s`,
    `never sent (still buffered when the run ended): ${s.unsent.readings} readings, ${s.unsent.events} events`,
    `cpu ${s.cpuSeconds.user} s user + ${s.cpuSeconds.system} s system, rss ${s.rssMB.end} MB (peak ${s.rssMB.peak} MB)`,
    `simulated ${s.simulated.start} → ${s.simulated.end}${s.simulated.clamped ? ' (clamped at the wall clock)' : ''}, seed ${s.seed}`,
    ...(s.notAdvancedOnServer === null ? [] : [s.notAdvancedOnServer.length === 0
      ? 'ReTrack\'s last fix advanced for every device that sent readings'
      : `WARNING: ReTrack's last fix did not advance for ${s.notAdvancedOnServer.length} device(s) that sent readings (see above)`]),
  ].join('\n')
}
