// Browser test of the installable app: the web manifest and its icons, the favicon, the
// offline copy kept by the service worker (the last board and an incident page readable
// without a network, marked as stale), and the contact card with the alert numbers.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test install.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';
import { PHONE, DESKTOP } from './a11y.mjs';

// pngSize reads the width and height of a PNG from its IHDR chunk.
function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG', 'not a PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

describe('web app: installable, readable offline, with the alert numbers as a contact', { skip, timeout: 120_000 }, () => {
  let browser;
  const errors = [];
  let inc;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    inc = await apiCall('POST', 'incidents', {
      json: { title: `Sin red en el sitio sur ${Date.now().toString(36)}`, impact: 'high', urgency: 'high', location: 'Sitio sur' }, want: 201,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
  });

  after(async () => {
    await browser?.close();
  });

  it('the page names a manifest (standalone, theme colour, 192 and 512 px PNG icons) and an icon', async () => {
    const page = await (await browser.newContext(DESKTOP)).newPage();
    await page.goto(`${BASE}/`);
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    assert.ok(await page.locator('link[rel="icon"]').count(), 'no favicon');
    assert.ok(await page.locator('link[rel="apple-touch-icon"]').count(), 'no icon for iPhones');
    const res = await fetch(new URL(href, `${BASE}/`));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/manifest\+json/);
    const m = await res.json();
    assert.equal(m.name, 'OPTIMUM BCP');
    assert.equal(m.display, 'standalone');
    assert.equal(m.theme_color, '#0b2540');
    assert.ok(m.start_url && m.short_name);
    const sizes = [];
    for (const icon of m.icons.filter((x) => x.type === 'image/png')) {
      const r = await fetch(new URL(icon.src, `${BASE}/`));
      assert.equal(r.status, 200, icon.src);
      const [w, h] = pngSize(Buffer.from(await r.arrayBuffer()));
      assert.equal(`${w}x${h}`, icon.sizes, icon.src);
      sizes.push(icon.sizes);
    }
    assert.ok(sizes.includes('192x192') && sizes.includes('512x512'), sizes.join(' '));
    const fav = await fetch(new URL(await page.locator('link[rel="icon"]').getAttribute('href'), `${BASE}/`));
    assert.equal(fav.status, 200);
    await page.context().close();
  });

  it('phone: the last board and an incident stay readable offline, marked as stale', async () => {
    const ctx = await browser.newContext(PHONE);
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    watchErrors(page, errors);
    await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await page.getByTestId('board-heading').waitFor();
    // The service worker took the page and kept the app's files.
    await page.waitForFunction(async () => {
      if (!navigator.serviceWorker.controller) return false;
      const shell = await caches.open('optimum-shell-v1');
      return (await shell.keys()).some((r) => /\/v\/[0-9a-f]+\/app\.js$/.test(r.url));
    }, null, { polling: 200 });
    // Read online once (through the service worker): the board and the incident.
    await page.reload();
    await page.locator(`[data-testid="board-item"][data-folio="${inc.folio}"]`).waitFor();
    await page.evaluate((f) => { location.hash = `#/incidente/${f}`; }, inc.folio);
    await page.locator('[data-testid="incident"][data-state="ready"]').waitFor();
    assert.equal(await page.getByTestId('stale').isVisible(), false);

    // Offline: the page and its service worker (Playwright takes both off the network).
    await ctx.setOffline(true);
    await page.evaluate(() => { location.hash = '#/tablero'; });
    await page.reload();
    await page.locator(`[data-testid="board-item"][data-folio="${inc.folio}"]`).waitFor();
    const banner = page.getByTestId('stale');
    await banner.waitFor();
    assert.match(await banner.textContent(), /^⚠Sin conexión: ves lo guardado a las \d{2}:\d{2}; puede estar desactualizado\.$/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'offline-board-phone.png') });
    await page.evaluate((f) => { location.hash = `#/incidente/${f}`; }, inc.folio);
    await page.locator('[data-testid="incident"][data-state="ready"]').waitFor();
    assert.equal(await page.getByTestId('incident-title').textContent(), inc.title);
    await page.screenshot({ path: path.join(ARTIFACTS, 'offline-incident-phone.png') });

    // Back online, the banner goes with the next fresh answer.
    await ctx.setOffline(false);
    await page.evaluate(() => { location.hash = '#/tablero'; });
    await page.reload();
    await page.getByTestId('board-heading').waitFor();
    await page.getByTestId('stale').waitFor({ state: 'hidden' });
    // Signing out forgets the person's data kept for offline use.
    await page.getByTestId('nav-more').tap();
    await page.getByTestId('signout').tap();
    await page.getByTestId('signin').waitFor();
    await page.waitForFunction(async () => !(await caches.has('optimum-data-v1')), null, { polling: 200 });
    await ctx.close();
  });

  for (const [size, opts] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    it(`${size}: "Mi perfil" offers the alert numbers as a contact, with how to let them through silent mode`, async () => {
      // No service worker here: a page it controls cannot have its requests answered by the test.
      const ctx = await browser.newContext({ ...opts, serviceWorkers: 'block' });
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      watchErrors(page, errors);
      // The test server has no SMS numbers; the answer is the API's shape with one.
      await page.route('**/api/v1/alert-numbers', (route) => route.fulfill({ json: { numbers: ['+15550001111'], vcard: 'api/v1/alert-numbers.vcf' } }));
      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
      await page.evaluate(() => { location.hash = '#/perfil'; });
      const card = page.getByTestId('silent-card');
      await card.getByTestId('silent-numbers').waitFor();
      assert.equal(await card.getByTestId('silent-numbers').textContent(), '+15550001111');
      assert.equal(await card.getByTestId('silent-vcard').getAttribute('href'), 'api/v1/alert-numbers.vcf');
      await card.getByTestId('silent-ios').locator('summary').click();
      assert.match(await card.getByTestId('silent-ios').textContent(), /Omisión de emergencia/);
      assert.match(await card.getByTestId('silent-android').textContent(), /favorito/);
      // The card itself comes from the server as a vCard.
      const vcf = await page.evaluate(async () => {
        const r = await fetch('api/v1/alert-numbers.vcf');
        return { type: r.headers.get('content-type'), text: await r.text() };
      });
      assert.equal(vcf.type, 'text/vcard; charset=utf-8');
      assert.match(vcf.text, /^BEGIN:VCARD\r\nVERSION:3\.0\r\n/);
      await card.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, `silent-card-${size}.png`) });
      await ctx.close();
    });
  }

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
