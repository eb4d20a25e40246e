// A burst of live events (a fleet reconnecting, a truck's milestones arriving together) should cost
// one reload, not one per event.

export interface Debounced {
  /** asks for a run; the run happens `ms` after the last ask of a burst */
  (): void
  /** forgets a pending run (the view went away) */
  cancel(): void
}

export function debounced(run: () => void, ms: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | undefined
  const ask = (() => { clearTimeout(timer); timer = setTimeout(run, ms) }) as Debounced
  ask.cancel = () => { clearTimeout(timer) }
  return ask
}
