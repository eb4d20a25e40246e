// The copy-and-paste test for a new device: one reading published with mosquitto_pub, with the
// credentials the MQTT contract asks for (client id = device id, username = tenant slug,
// password = the device secret).

export interface MosquittoExample {
  host: string
  port: number | null
  deviceId: string
  tenant: string
  secret: string
  /** epoch ms of the sample reading */
  now: number
}

/** Single quotes for a POSIX shell: nothing inside is expanded. */
const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`

export const telemetryTopic = (tenant: string, deviceId: string): string => `tenants/${tenant}/devices/${deviceId}/telemetry`

export function mosquittoPub(e: MosquittoExample): string {
  const reading = JSON.stringify({ ts: e.now, lat: 48.8566, lon: 2.3522, speed: 12.5, heading: 90, accuracy: 8, battery: 87 })
  return [
    'mosquitto_pub',
    `-h ${shellQuote(e.host)}`,
    `-p ${e.port ?? '<mqtt-port>'}`,
    '-q 1',
    `-i ${shellQuote(e.deviceId)}`,
    `-u ${shellQuote(e.tenant)}`,
    `-P ${shellQuote(e.secret)}`,
    `-t ${shellQuote(telemetryTopic(e.tenant, e.deviceId))}`,
    `-m ${shellQuote(reading)}`,
  ].join(' \\\n  ')
}
