// Plain-text output shared by the benches: aligned tables and PASS/MISS verdicts.

export type Cell = string | number

const show = (c: Cell) => (typeof c === 'number' ? formatNumber(c) : c)

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(Math.abs(n) >= 10 ? 1 : 2)
}

/** Columns right-aligned except the first; numbers get thousands separators. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(show))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

export interface Verdict { label: string, ok: boolean, detail: string }

export const verdict = (label: string, ok: boolean, detail: string): Verdict => ({ label, ok, detail })

/** Prints each verdict and returns whether all passed. */
export function printVerdicts(verdicts: readonly Verdict[]): boolean {
  for (const v of verdicts) console.log(`${v.ok ? 'PASS' : 'MISS'}  ${v.label}: ${v.detail}`)
  return verdicts.every((v) => v.ok)
}
