// Benches start databases and child processes; they must go away however the bench ends (normal
// exit, a thrown error, Ctrl-C). Register an undo step as soon as something is created; runBench
// runs them in reverse order once, and SIGINT/SIGTERM run them too before exiting.
type Step = () => Promise<void> | void

const steps: Step[] = []
let running: Promise<void> | null = null

/** Registers `step` to run at the end (latest registered runs first); returns it for direct use. */
export function onCleanup(step: Step): Step {
  steps.push(step)
  return step
}

/** Runs every registered step once, in reverse order; a failing step is reported, not fatal. */
export function runCleanups(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!
      try { await step() } catch (err) { console.error('cleanup step failed:', err instanceof Error ? err.message : err) }
    }
    running = null
  })()
  return running
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`)
    void runCleanups().finally(() => process.exit(130))
  })
}

/** Runs the bench body, then the cleanups; an error is printed and makes the exit code 1. */
export async function runBench(body: () => Promise<boolean>): Promise<void> {
  let ok = false
  try {
    ok = await body()
  } catch (err) {
    console.error(err instanceof Error ? err.stack ?? err.message : err)
  } finally {
    await runCleanups()
  }
  // targets missed are reported with exit code 1 too, so CI can tell; cleanup happened either way
  process.exitCode = ok ? 0 : 1
}
