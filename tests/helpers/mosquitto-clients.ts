// Runs the real mosquitto_pub / mosquitto_sub clients (Debian's mosquitto-clients).
import { execFile } from 'node:child_process'

export interface ClientRun { code: number, stdout: string, stderr: string }

export function runClient(bin: 'mosquitto_pub' | 'mosquitto_sub', args: string[], timeoutMs = 10_000): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(bin, ['-V', 'mqttv311', ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

export function mosquittoPub(port: number, o: { id: string, user: string, pass: string, topic: string, message: string, qos?: 0 | 1 }) {
  return runClient('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-i', o.id, '-u', o.user, '-P', o.pass, '-t', o.topic, '-m', o.message, '-q', String(o.qos ?? 1)])
}
