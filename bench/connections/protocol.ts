// Messages between bench/connections.ts and its children (IPC), shared so both sides agree.

export interface DeviceCredential { id: string, secret: string }

/** Parent → load generator: open one MQTT 3.1.1 connection per device from `localAddress`. */
export interface ConnectRequest {
  type: 'connect'
  host: string
  port: number
  localAddress: string
  username: string
  devices: DeviceCredential[]
  keepaliveS: number
  /** CONNECTs awaiting their CONNACK at once (this worker) */
  window: number
  timeoutMs: number
}

export interface ConnectResult {
  type: 'connected'
  localAddress: string
  attempted: number
  /** CONNACK with return code 0, socket still open */
  connected: number
  /** CONNACK with a non-zero return code */
  refused: number
  /** closed, reset or timed out before a CONNACK (e.g. the server had no file descriptor left) */
  failed: number
  /** epoch ms of the first connect() and of the last CONNACK */
  startedAt: number
  lastAckAt: number
  /** CONNECT → CONNACK, ms */
  p50Ms: number
  p99Ms: number
  errors: Record<string, number>
}

/** Parent → load generator: how many of its connections are still open (CONNACKed, not closed since)? */
export interface CountRequest { type: 'count' }
export interface Count { type: 'count', open: number }

/** Parent → load generator: close every socket it holds. */
export interface CloseRequest { type: 'close' }
export interface Closed { type: 'closed', open: number }

/** Parent → process under test (through debug-hook.ts): force a full GC. */
export interface GcRequest { type: 'gc' }
export interface GcDone { type: 'gc-done', forced: boolean, heapUsedBytes: number }
