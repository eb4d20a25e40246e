// Why a broker or API URL cannot work, in words, so a bad --url/--api stops the run at start-up
// (exit 2) instead of connecting somewhere else. new URL() accepts port 0 and an empty port, and
// mqtt.js then silently falls back to 1883, so the port is checked from the text itself.

const PORT_RANGE = '1–65535'

/** The port as written in the URL (undefined if none), or an error if the authority is malformed. */
function writtenPort(hostPort: string): string | undefined | Error {
  if (hostPort.startsWith('[')) {
    // IPv6 literal: the port, if any, follows the closing bracket
    const rest = hostPort.slice(hostPort.indexOf(']') + 1)
    if (rest === '') return undefined
    return rest.startsWith(':') ? rest.slice(1) : new Error('not a valid host')
  }
  const colon = hostPort.lastIndexOf(':')
  return colon < 0 ? undefined : hostPort.slice(colon + 1)
}

/** undefined if `text` is a URL with a host and, if it names a port, one in 1–65535. */
export function urlProblem(text: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1]
  if (authority === undefined) return 'not a URL'
  const port = writtenPort(authority.slice(authority.lastIndexOf('@') + 1))
  if (port instanceof Error) return port.message
  if (port !== undefined) {
    if (port === '') return `the port after ":" is missing (give one in ${PORT_RANGE})`
    if (!/^\d+$/.test(port)) return `port "${port}" is not a number in ${PORT_RANGE}`
    const n = Number(port)
    if (n < 1 || n > 65535) return `port ${port} is outside ${PORT_RANGE}`
  }
  let url: URL
  try { url = new URL(text) } catch { return 'not a valid URL' }
  return url.hostname === '' ? 'no host' : undefined
}
