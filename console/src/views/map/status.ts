// How a device is drawn: moving, stopped or offline. Pure, so the rule is easy to read and test.

export type DeviceStatus = 'moving' | 'stopped' | 'offline'

/** Below this a fix counts as standing still: GPS at rest wanders by up to about 1 m/s. */
export const MOVING_MIN_MPS = 1

export function deviceStatus(online: boolean, speedMps: number | null): DeviceStatus {
  if (!online) return 'offline'
  return (speedMps ?? 0) >= MOVING_MIN_MPS ? 'moving' : 'stopped'
}

export const STATUS_LABEL: Record<DeviceStatus, string> = { moving: 'moving', stopped: 'stopped', offline: 'offline' }
