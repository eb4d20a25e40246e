// Where the embedded PGlite is served: a Unix socket, never a TCP port. pglite-socket has no
// authentication at all (every client is user postgres, no password asked), so who may reach the
// socket is the only gate: it lives in a folder of its owner's only (0700), so no other local user
// can connect. (A loopback TCP port let any of them in: read every hash, make anyone an admin.)
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** pg, like libpq, connects to `<host>/.s.PGSQL.<port>` when `host` is a folder (starts with '/'). */
export const SOCKET_PORT = 5432
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`

/** A socket's path must fit sun_path: 108 bytes on Linux, 104 on macOS and the BSDs, its NUL included. */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103

export interface SocketFolder {
  /** the folder, owner-only: pg's `host` */
  readonly folder: string
  /** the socket file in it: pglite-socket's `path` */
  readonly socketPath: string
  /** removes what exists for this run only (a temporary folder); call after the server stopped */
  remove(): void
}

/**
 * The folder to serve the embedded database in: `DATA_DIR/pg-socket`, or (in-memory database, or a
 * DATA_DIR whose absolute path makes the socket's too long for sun_path) a private folder under the
 * system's temporary folder, removed by `remove()` (a process killed -9 leaves that empty folder behind).
 */
export async function embeddedSocketFolder(dataDir: string | undefined): Promise<SocketFolder> {
  if (dataDir !== undefined) {
    const folder = path.resolve(dataDir, 'pg-socket')
    const socketPath = path.join(folder, SOCKET_NAME)
    if (fits(socketPath) && ownerOnlyFolder(folder)) {
      await clearStaleSocket(socketPath)
      return { folder, socketPath, remove: () => undefined }
    }
  }
  const folder = mkdtempSync(path.join(os.tmpdir(), 'retrack-pg-')) // 0700
  chmodSync(folder, 0o700)
  const socketPath = path.join(folder, SOCKET_NAME)
  const remove = () => rmSync(folder, { recursive: true, force: true })
  if (!fits(socketPath)) {
    remove()
    throw new Error(`the embedded database's socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes: set TMPDIR to a shorter folder`)
  }
  return { folder, socketPath, remove }
}

function fits(socketPath: string): boolean {
  return Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES
}

/** Creates `folder` 0700 (or makes an existing one so); false when it cannot (another owner, read-only). */
function ownerOnlyFolder(folder: string): boolean {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 })
    chmodSync(folder, 0o700) // whatever the umask, or an older mode
    return true
  } catch {
    return false
  }
}

/**
 * A socket file left by a process that died (kill -9, a power cut) would make listening fail: it is
 * removed when nothing answers on it. One that answers belongs to a live process (the data folder's
 * pid lock normally stops that process's twin earlier).
 */
async function clearStaleSocket(socketPath: string): Promise<void> {
  try {
    if (!lstatSync(socketPath).isSocket()) return // not ours: listening fails with a clear EADDRINUSE
  } catch {
    return // none
  }
  const answered = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath, () => { probe.destroy(); resolve(true) })
    probe.once('error', () => resolve(false))
  })
  if (answered) throw new Error(`another process serves an embedded database at ${socketPath}; stop it first`)
  rmSync(socketPath, { force: true })
}
