// A new device's secret, shown once (the API stores only its hash), with a ready-made
// mosquitto_pub command. Both can be copied; the panel stays until the admin dismisses it.
import type { DeviceCredentials } from '../../api/types.js'
import { h } from '../../app/dom.js'
import { mosquittoPub } from './mosquitto.js'

async function copy(text: string, button: HTMLButtonElement, label: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = 'Copied'
  } catch {
    // no clipboard permission (or not a secure context): select the text for a manual copy
    button.textContent = 'Select and copy by hand'
  }
  setTimeout(() => { button.textContent = label }, 2000)
}

function copyable(label: string, text: string, buttonLabel: string, multiline: boolean): HTMLElement {
  const value = multiline ? h('pre', { class: 'code', tabindex: 0, 'aria-label': label }, h('code', {}, text)) : h('code', { class: 'secret', 'aria-label': label }, text)
  const button = h('button', { type: 'button', class: 'button' }, buttonLabel)
  button.addEventListener('click', () => { void copy(text, button, buttonLabel) })
  return h('div', { class: 'copyable' }, h('span', { class: 'field__label' }, label), value, button)
}

export function credentialsPanel(created: DeviceCredentials, broker: { host: string, port: number | null }, dismiss: () => void): HTMLElement {
  const command = mosquittoPub({
    host: broker.host, port: broker.port, deviceId: created.device.id, tenant: created.mqtt.username, secret: created.secret, now: Date.now(),
  })
  return h('section', { class: 'card credentials', 'aria-labelledby': 'credentials-title' },
    h('h2', { id: 'credentials-title' }, `Device “${created.device.name}” created`),
    h('p', { class: 'notice notice--warning' }, 'Store the secret now: it is shown only this once. Rotate it to get a new one.'),
    copyable('Device id (MQTT client id)', created.device.id, 'Copy id', false),
    copyable('Secret (MQTT password)', created.secret, 'Copy secret', false),
    copyable('Test it with mosquitto_pub', command, 'Copy command', true),
    broker.port === null ? h('p', { class: 'muted' }, 'This node picks its MQTT port at start-up: replace <mqtt-port> with the port it logged.') : null,
    h('button', { type: 'button', class: 'button button--primary', onclick: dismiss }, 'I have stored the secret'))
}
