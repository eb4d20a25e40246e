// The MQTT topic contract (v1), one typed map from topic to payload. Depends on nothing, so the
// broker, the simulator and outside tools can share it.
import type { Command, DeviceEventPayload, Reading, StatusPayload, TrackingEventMessage } from './payloads.js'

/** What a device sends (and receives on `commands`), per channel of its topic tree. */
export interface DeviceTopicPayloads {
  telemetry: Reading | Reading[]
  events: DeviceEventPayload | DeviceEventPayload[]
  status: StatusPayload
  commands: Command
}

export type DeviceChannel = keyof DeviceTopicPayloads
/** Channels a device may publish on; `commands` is server to device only. */
export const DEVICE_PUBLISH_CHANNELS = ['telemetry', 'events', 'status'] as const satisfies readonly DeviceChannel[]
export type DevicePublishChannel = typeof DEVICE_PUBLISH_CHANNELS[number]

export const deviceTopic = <C extends DeviceChannel>(tenant: string, deviceId: string, channel: C) =>
  `tenants/${tenant}/devices/${deviceId}/${channel}` as const

export function deviceTopics(tenant: string, deviceId: string) {
  return {
    telemetryTopic: deviceTopic(tenant, deviceId, 'telemetry'),
    eventsTopic: deviceTopic(tenant, deviceId, 'events'),
    statusTopic: deviceTopic(tenant, deviceId, 'status'),
    commandsTopic: deviceTopic(tenant, deviceId, 'commands'),
  }
}

/** Tracking events ReTrack publishes for integrations: `tenants/{tenant}/events/{type}`. */
export const trackingEventTopic = (tenant: string, type: string) => `tenants/${tenant}/events/${type}` as const
export type TrackingEventTopicPayload = TrackingEventMessage

export interface ParsedDeviceTopic {
  tenant: string
  deviceId: string
  channel: DeviceChannel
}

const channels = new Set<string>(['telemetry', 'events', 'status', 'commands'])

/** Splits a device topic; null for anything that is not exactly `tenants/{t}/devices/{d}/{channel}`. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const parts = topic.split('/')
  if (parts.length !== 5 || parts[0] !== 'tenants' || parts[2] !== 'devices') return null
  const [, tenant, , deviceId, channel] = parts as [string, string, string, string, string]
  if (!tenant || !deviceId || !channels.has(channel)) return null
  return { tenant, deviceId, channel: channel as DeviceChannel }
}
