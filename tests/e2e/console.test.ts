// The operator console in a real browser against a real node: Debian's Chromium (playwright-core)
// signs in, watches a vehicle move on the live map as fixes arrive over MQTT, watches a shipment
// reach "arrived" at its first stop without a reload, records an exception, and a viewer is refused
// the same action. Every request the page makes must stay on this host.
import { mkdirSync } from 'node:fs'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { fromRoot } from '../../src/paths.js'
import { PASSWORD } from '../helpers/app.js'
import { scenario, type Scenario } from '../helpers/scenario.js'
import { nodeApi } from '../helpers/server.js'
import { Track, offset, type LonLat } from '../helpers/tracks.js'
import { CHROMIUM_PATH } from '../setup/services.js'
import { ensureConsoleBuilt, launchChromium, localOnly, type Chromium } from './browser.js'

const chromiumInstalled = inject('services').chromium
if (!chromiumInstalled) console.warn(`[e2e] console browser suite skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`)

const ARTIFACTS = fromRoot('tests', 'artifacts')
const SLUG = 'console'
// Around Lyon: the truck waits at a depot, drives 3 km, then on to the pickup 10 km east
const depot: LonLat = [4.80, 45.70]
const moved: LonLat = offset(depot, 90, 3000)
const pickup: LonLat = offset(depot, 90, 10_000)
const delivery: LonLat = offset(pickup, 45, 40_000)
// event times in the recent past, in order: fixes never go back in time for the pipeline
const T0 = Date.now() - 60 * 60_000

describe.skipIf(!chromiumInstalled)('operator console in Chromium', () => {
  let s: Scenario
  let chrome: Chromium
  let context: BrowserContext
  let page: Page
  let guard: Awaited<ReturnType<typeof localOnly>>
  let shipmentId = ''
  const pageErrors: string[] = []
  let base = ''

  const markerOf = () => page.getByRole('button', { name: /^Truck 12/ })
  const position = async () => {
    const marker = markerOf()
    return { lat: await marker.getAttribute('data-lat'), lon: await marker.getAttribute('data-lon'), box: await marker.boundingBox() }
  }
  const live = () => expect.poll(() => page.getByRole('status', { name: 'Live updates' }).textContent(), { timeout: 10_000 }).toBe('Live')

  /** The map has finished zooming to the shipment: its route and fences lie inside the map. */
  async function shipmentInView(): Promise<boolean> {
    if (await page.locator('.leaflet-container.leaflet-zoom-anim').count() > 0) return false
    const frame = await page.getByRole('region', { name: 'Live map' }).boundingBox()
    const boxes = await Promise.all((await page.locator('.leaflet-overlay-pane path').all()).map((p) => p.boundingBox()))
    return frame !== null && boxes.every((b) => b !== null && b.x >= frame.x && b.y >= frame.y && b.x + b.width <= frame.x + frame.width && b.y + b.height <= frame.y + frame.height)
  }

  async function signIn(email: string, on: Page = page): Promise<void> {
    await on.goto(`${base}/`)
    await on.getByLabel('Email', { exact: true }).fill(email)
    await on.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await on.getByRole('button', { name: 'Sign in' }).click()
    await on.getByRole('heading', { name: 'Live map' }).waitFor()
  }

  /** Another tab: its own sessionStorage, so its own session; its errors count as the page's. */
  async function newTab(email: string): Promise<Page> {
    const tab = await context.newPage()
    tab.on('pageerror', (err) => pageErrors.push(err.message))
    await signIn(email, tab)
    return tab
  }
  const badgeOf = (tab: Page) => () => tab.getByRole('status', { name: 'Live updates' }).textContent()

  beforeAll(async () => {
    ensureConsoleBuilt()
    mkdirSync(ARTIFACTS, { recursive: true })
    s = await scenario(SLUG)
    base = s.node.http
    const api = nodeApi(s.node)
    await api('POST', '/api/v1/users', s.acme.adminToken, { email: `viewer@${SLUG}.test`, password: PASSWORD, role: 'viewer' })
    const truck = await api<{ id: string }>('POST', '/api/v1/vehicles', s.acme.operatorToken, { name: 'Truck 12', plate: 'AB-123-CD' })
    await api('PATCH', `/api/v1/devices/${s.device.id}`, s.acme.operatorToken, { vehicleId: truck.id })
    const shipment = await s.createShipment({
      reference: 'CONSOLE-1',
      route: { type: 'LineString', coordinates: [depot, pickup, delivery] },
      stops: [
        { type: 'pickup', name: 'Pickup', lon: pickup[0], lat: pickup[1], plannedDwellS: 1200 },
        { type: 'delivery', name: 'Delivery', lon: delivery[0], lat: delivery[1], windowEnd: new Date(Date.now() + 4 * 3_600_000).toISOString() },
      ],
    })
    shipmentId = shipment.id
    // where the truck was before anyone looked: the map reads it from the device state
    await s.replay([{ ts: T0 - 20 * 60_000, lon: depot[0], lat: depot[1], speed: 0, accuracy: 8 }])

    chrome = await launchChromium()
    context = await chrome.browser.newContext({ viewport: { width: 1280, height: 860 } })
    guard = await localOnly(context)
    page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(err.message))
  })

  afterAll(async () => {
    await context?.close().catch(() => undefined)
    await chrome?.close()
    await s?.close()
  })

  it('an operator signs in and sees the vehicle\'s marker move on the live map as fixes arrive over MQTT', { timeout: 60_000 }, async () => {
    await signIn(`operator@${SLUG}.test`)
    await markerOf().waitFor()
    const before = await position()
    expect(before.lat).toBe(depot[1].toFixed(6))
    await live()

    await s.replay([{ ts: T0 - 10 * 60_000, lon: moved[0], lat: moved[1], speed: 15, heading: 90, accuracy: 8 }])
    await expect.poll(async () => (await position()).lon, { timeout: 10_000 }).toBe(moved[0].toFixed(6))
    const after = await position()
    expect(after.box!.x).toBeGreaterThan(before.box!.x + 20) // it moved east on screen, not just in an attribute
    expect(await markerOf().getAttribute('data-status')).toBe('moving')

    // the shipment's stop fences and planned route on the same map
    await page.getByLabel('Shipment on the map').selectOption(shipmentId)
    await expect.poll(() => page.locator('.leaflet-overlay-pane path').count()).toBeGreaterThanOrEqual(5) // route, 2 fences, 2 dots
    await expect.poll(shipmentInView, { timeout: 10_000 }).toBe(true)
    await page.screenshot({ path: `${ARTIFACTS}/console-map.png` })
    // zoomed out, the offline basemap (bundled Natural Earth countries) shows its borders
    for (let i = 0; i < 4; i++) {
      await page.getByRole('button', { name: 'Zoom out' }).click()
      await expect.poll(() => page.locator('.leaflet-container.leaflet-zoom-anim').count()).toBe(0)
    }
    await page.screenshot({ path: `${ARTIFACTS}/console-map-overview.png` })
  })

  it('the shipment page reaches "arrived" at the first stop without a reload', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Shipments' }).click()
    await page.getByRole('row', { name: /CONSOLE-1/ }).getByText('in transit').waitFor()
    await page.screenshot({ path: `${ARTIFACTS}/console-shipments.png` })
    await page.getByRole('link', { name: 'CONSOLE-1' }).click()
    await page.getByRole('heading', { name: 'CONSOLE-1' }).waitFor()
    // a flag on the page's global object: gone if anything reloads the page
    await page.evaluate(() => { (globalThis as { notReloaded?: boolean }).notReloaded = true })
    const pickupRow = page.getByRole('row', { name: /Pickup/ })
    expect(await pickupRow.locator('[data-status]').textContent()).toBe('pending')
    await live()

    const track = new Track(moved, T0).driveTo(offset(pickup, 270, 50), 15).dwell(20 * 60)
    await s.replay(track.fixes)
    await expect.poll(() => pickupRow.locator('[data-status]').textContent(), { timeout: 15_000 }).toBe('arrived')
    await page.getByRole('list', { name: 'Timeline' }).getByText('Arrived', { exact: true }).first().waitFor()
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true)
  })

  it('an operator records an exception: it appears in the timeline and the status', { timeout: 60_000 }, async () => {
    await page.getByRole('button', { name: 'Record exception' }).click()
    const dialog = page.getByRole('dialog', { name: 'Record an exception' })
    await dialog.getByLabel('Exception code').fill('damaged')
    await dialog.getByLabel('Note').fill('Pallet 3 crushed at loading')
    await dialog.getByRole('button', { name: 'Record exception' }).click()
    await dialog.waitFor({ state: 'hidden' })

    const timeline = page.getByRole('list', { name: 'Timeline' })
    await timeline.getByRole('listitem').filter({ hasText: 'code damaged' }).filter({ hasText: 'Pallet 3 crushed at loading' }).waitFor()
    await expect.poll(() => page.locator('.shipment-status [data-status]').textContent(), { timeout: 10_000 }).toBe('exception')
    expect((await s.shipment(shipmentId)).status).toBe('exception')
    await page.screenshot({ path: `${ARTIFACTS}/console-shipment.png`, fullPage: true })
  })

  it('a viewer gets no action buttons, and the API refuses the action when forced (403)', { timeout: 60_000 }, async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to ReTrack' }).waitFor()
    await signIn(`viewer@${SLUG}.test`)
    await page.goto(`${base}/shipments/${shipmentId}`)
    await page.getByRole('heading', { name: 'CONSOLE-1' }).waitFor()
    await page.getByRole('list', { name: 'Timeline' }).getByText('Exception', { exact: true }).first().waitFor()
    for (const name of ['Record exception', 'Confirm delivery', 'Add comment', 'Cancel shipment']) {
      expect(await page.getByRole('button', { name }).count()).toBe(0)
    }
    // the same calls the buttons make, with the viewer's own token from the page
    const statuses = await page.evaluate(async (id) => {
      // runs in the page (this file is type-checked without the DOM library)
      const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage
      const { accessToken } = JSON.parse(storage.getItem('retrack.session') ?? '{}') as { accessToken: string }
      const post = (path: string, body: object) => fetch(path, {
        method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      }).then((r) => r.status)
      return [await post(`/api/v1/shipments/${id}/events`, { type: 'exception', code: 'forced' }), await post(`/api/v1/shipments/${id}/cancel`, {})]
    }, shipmentId)
    expect(statuses).toEqual([403, 403])
  })

  it('an admin creates a device and is shown its secret once, with a mosquitto_pub example', { timeout: 60_000 }, async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await signIn(`admin@${SLUG}.test`)
    await page.getByRole('link', { name: 'Devices' }).click()
    await page.getByLabel('Device name').fill('reefer-7')
    await page.getByRole('button', { name: 'Create device' }).click()
    const panel = page.getByRole('region', { name: /reefer-7/ })
    const id = await panel.getByLabel('Device id (MQTT client id)').textContent()
    const command = await panel.getByLabel('Test it with mosquitto_pub').textContent()
    expect(id).toMatch(/^dev_/)
    expect(command).toContain(`-i '${id}'`)
    expect(command).toContain(`-u '${SLUG}'`)
    expect(command).toContain(`-t 'tenants/${SLUG}/devices/${id}/telemetry'`)
    // the list reloads after the create: wait for the new row rather than count a list not yet redrawn
    const row = page.getByRole('row', { name: /reefer-7/ })
    await row.getByText('offline').waitFor({ timeout: 10_000 })
    expect(await row.getByText('offline').count()).toBe(1)
    await page.screenshot({ path: `${ARTIFACTS}/console-devices.png`, fullPage: true })
  })

  it('the device list pages through a fleet and finds a device by name; the map reads every position in one request', { timeout: 60_000 }, async () => {
    const api = nodeApi(s.node)
    for (let i = 0; i < 55; i++) await api('POST', '/api/v1/devices', s.acme.adminToken, { name: `fleet-${String(i).padStart(2, '0')}` })
    const { total } = await api<{ total: number }>('GET', '/api/v1/devices?limit=1', s.acme.adminToken)
    const tab = await newTab(`operator@${SLUG}.test`)
    const reads: string[] = []
    tab.on('request', (r) => { const path = new URL(r.url()).pathname; if (path.startsWith('/api/v1/')) reads.push(path) })
    try {
      await tab.reload()
      await tab.getByRole('button', { name: /^Truck 12/ }).waitFor({ timeout: 10_000 })
      // a few reads for the whole fleet (the stream may open more than once), none per device
      expect(reads).toContain('/api/v1/positions/latest')
      expect(reads.filter((path) => path.endsWith('/state'))).toEqual([])
      expect(reads.length).toBeLessThan(20)

      await tab.getByRole('link', { name: 'Devices' }).click()
      const summary = tab.getByText(/^\d[\d,]*–\d[\d,]* of /)
      await expect.poll(() => summary.textContent(), { timeout: 10_000 }).toBe(`1–50 of ${total}`)
      expect(await tab.locator('tbody tr').count()).toBe(50)
      await tab.getByRole('button', { name: 'Next page' }).click()
      await expect.poll(() => summary.textContent()).toBe(`51–${total} of ${total}`)
      expect(await tab.locator('tbody tr').count()).toBe(total - 50)
      expect(await tab.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true)

      await tab.getByLabel('Name or id').fill('fleet-07')
      await expect.poll(() => summary.textContent()).toBe('1–1 of 1')
      expect(await tab.getByRole('row', { name: /fleet-07/ }).count()).toBe(1)
      expect(new URL(tab.url()).searchParams.get('q')).toBe('fleet-07')
      await tab.getByLabel('Name or id').fill('no-such-device')
      await tab.getByText('No device matches.').waitFor({ timeout: 10_000 })
    } finally {
      await tab.close()
    }
  })

  it('stop names are drawn as text on the map, never as HTML', { timeout: 60_000 }, async () => {
    const api = nodeApi(s.node)
    const name = '<img src="/favicon.svg" data-injected="1"><b>Dock</b>'
    const created = await api<{ id: string }>('POST', '/api/v1/shipments', s.acme.operatorToken, {
      reference: 'CONSOLE-XSS',
      stops: [{ type: 'pickup', name, lon: depot[0], lat: depot[1] }, { type: 'delivery', name: 'Plain', lon: moved[0], lat: moved[1] }],
    })
    const tab = await newTab(`operator@${SLUG}.test`)
    try {
      await tab.goto(`${base}/map?shipment=${created.id}`)
      await expect.poll(() => tab.locator('.stop-label').count(), { timeout: 10_000 }).toBe(2)
      expect(await tab.locator('.leaflet-tooltip [data-injected], .leaflet-tooltip b').count()).toBe(0)
      expect(await tab.locator('.stop-label').first().textContent()).toContain(name)
    } finally {
      await tab.close()
    }
  })

  it('the timeline is read when the page opens, even when the live stream cannot connect', { timeout: 60_000 }, async () => {
    const tab = await newTab(`operator@${SLUG}.test`)
    try {
      // a proxy that drops Server-Sent Events: the page must still show what happened so far
      await tab.route((url) => url.pathname === '/api/v1/stream', (route) => route.abort('connectionrefused'))
      await tab.goto(`${base}/shipments/${shipmentId}`)
      await tab.getByRole('heading', { name: 'CONSOLE-1' }).waitFor()
      const timeline = tab.getByRole('list', { name: 'Timeline' })
      await timeline.getByText('Arrived', { exact: true }).first().waitFor({ timeout: 10_000 })
      expect(await timeline.getByText('No events yet.').count()).toBe(0)
      expect(await badgeOf(tab)()).not.toBe('Live')
    } finally {
      await tab.close()
    }
  })

  it('the shipment list never shows the answer to a filter the operator has already changed', { timeout: 60_000 }, async () => {
    const tab = await newTab(`operator@${SLUG}.test`)
    try {
      // the answer for the first filter is slow and arrives after the answer for the second
      await tab.route((url) => url.pathname === '/api/v1/shipments' && url.searchParams.get('q') === 'NOPE', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 2500))
        await route.continue().catch(() => undefined)
      })
      await tab.getByRole('link', { name: 'Shipments' }).click()
      await tab.getByRole('row', { name: /CONSOLE-1/ }).first().waitFor()
      const slow = tab.waitForRequest((r) => new URL(r.url()).searchParams.get('q') === 'NOPE')
      await tab.getByLabel('Reference').fill('NOPE')
      await slow
      await tab.getByLabel('Reference').fill('CONSOLE')
      await tab.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === 'CONSOLE')
      await tab.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === 'NOPE')
      await tab.waitForTimeout(200)
      expect(await tab.getByLabel('Reference').inputValue()).toBe('CONSOLE')
      expect(await tab.getByRole('row', { name: /CONSOLE-1/ }).count()).toBeGreaterThan(0)
      expect(await tab.getByText('No shipment matches.').count()).toBe(0)
    } finally {
      await tab.close()
    }
  })

  it('a stream ended because the user\'s role changed reconnects with a refreshed token; a disabled user is signed out', { timeout: 90_000 }, async () => {
    const api = nodeApi(s.node)
    const user = await api<{ id: string }>('POST', '/api/v1/users', s.acme.adminToken, { email: `demoted@${SLUG}.test`, password: PASSWORD, role: 'operator' })
    const tab = await newTab(`demoted@${SLUG}.test`)
    try {
      await tab.goto(`${base}/shipments/${shipmentId}`)
      await tab.getByRole('heading', { name: 'CONSOLE-1' }).waitFor()
      await expect.poll(badgeOf(tab), { timeout: 10_000 }).toBe('Live')
      await tab.getByRole('button', { name: 'Add comment' }).waitFor()
      await tab.waitForTimeout(1000) // the read that follows the stream's opening is done: only the stream is left to notice

      // the server ends the stream (its token's role is no longer the user's); the old token is refused
      await api('PATCH', `/api/v1/users/${user.id}`, s.acme.adminToken, { role: 'viewer' })
      await expect.poll(badgeOf(tab), { timeout: 20_000, interval: 100 }).not.toBe('Live')
      await expect.poll(badgeOf(tab), { timeout: 20_000 }).toBe('Live')
      // the page now reflects the new role: no action the API would refuse
      await expect.poll(() => tab.locator('.whoami .badge').textContent(), { timeout: 5000 }).toBe('viewer')
      expect(await tab.getByRole('button', { name: 'Add comment' }).count()).toBe(0)

      // disabled: the stream ends, the refresh is refused, and the tab returns to the sign-in page
      await api('PATCH', `/api/v1/users/${user.id}`, s.acme.adminToken, { disabled: true })
      await tab.getByRole('heading', { name: 'Sign in to ReTrack' }).waitFor({ timeout: 30_000 })
    } finally {
      await tab.close()
    }
  })

  it('no request left localhost, and the page threw nothing', () => {
    expect(guard.seen()).toBeGreaterThan(10)
    expect(guard.offenders).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
