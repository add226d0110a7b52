// Browser test of alerts from monitoring on the board: an Alertmanager notification sent
// while the board is open appears live at the top, at phone size and on a desktop, with
// nobody alerted; a responder declares the crisis from one (the app opens its page) and
// dismisses another with a reason. Checked with axe-core at both sizes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, DESKTOP, checkPage } from './a11y.mjs';

const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

function notification(alertname, summary) {
  return {
    receiver: 'optimum-bcp', status: 'firing', version: '4', truncatedAlerts: 0,
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: { alertname, severity: 'critical', team: 'technology' },
    commonAnnotations: { summary, description: 'Prometheus lo detectó en el CPD de CDMX.' },
    externalURL: 'http://alertmanager:9093',
    alerts: [{
      status: 'firing', labels: { alertname, severity: 'critical', instance: 'ups-a:9100' },
      annotations: { summary }, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph', fingerprint: `${alertname}-1`,
    }],
  };
}

async function sendAlert(token, body) {
  const res = await fetch(`${BASE}/api/v1/integrations/alertmanager`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

describe('web app: alerts from monitoring wait for a human on the board', { skip, timeout: 120_000 }, () => {
  let browser;
  let phone;
  let desk;
  let monitor;
  const errors = [];
  const power = `UPSOnBattery${stamp}`;
  const disk = `DiskFull${stamp}`;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    monitor = (await apiCall('POST', 'tokens', { json: { name: `Alertmanager ${stamp}`, role: 'integration' }, want: 201 })).token;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    phone = await (await browser.newContext(PHONE)).newPage();
    desk = await (await browser.newContext(DESKTOP)).newPage();
    for (const page of [phone, desk]) {
      page.setDefaultTimeout(15_000);
      watchErrors(page, errors);
      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
    }
  });

  after(async () => {
    await browser?.close();
  });

  it('a notification appears live on the open boards, and nobody is alerted', async () => {
    const before = (await apiCall('GET', 'incidents')).length;
    const p = await sendAlert(monitor, notification(power, `El CPD funciona con baterías ${stamp}`));
    await sendAlert(monitor, notification(disk, `Disco lleno en el servidor de respaldos ${stamp}`));
    for (const page of [phone, desk]) {
      const item = page.locator(`[data-testid="proposal"][data-id="${p.id}"]`);
      // Other test files run at the same time against the same server: give the stream room.
      await item.waitFor({ timeout: 30_000 });
      assert.match(await item.textContent(), /El CPD funciona con baterías/);
    }
    assert.equal((await apiCall('GET', 'incidents')).length, before, 'a proposal declared an incident');
    await noSidewaysScroll(phone);
    await checkPage(phone, 'proposals-phone');
    await checkPage(desk, 'proposals-desktop');
  });

  it('dismissing needs a reason; declaring opens the new crisis', async () => {
    const list = await apiCall('GET', 'proposals');
    const diskP = list.find((x) => x.alert_name === disk);
    const powerP = list.find((x) => x.alert_name === power);
    const diskItem = phone.locator(`[data-testid="proposal"][data-id="${diskP.id}"]`);
    await diskItem.getByTestId('proposal-dismiss').tap();
    await diskItem.getByTestId('proposal-error').filter({ hasText: 'Escribe por qué no es una crisis.' }).waitFor();
    await diskItem.getByTestId('proposal-reason').fill('Es el disco de pruebas; se limpia solo');
    await diskItem.getByTestId('proposal-dismiss').tap();
    await diskItem.waitFor({ state: 'detached' });
    await desk.locator(`[data-testid="proposal"][data-id="${diskP.id}"]`).waitFor({ state: 'detached' });
    assert.equal((await apiCall('GET', `proposals/${diskP.id}`)).status, 'dismissed');

    await phone.locator(`[data-testid="proposal"][data-id="${powerP.id}"]`).getByTestId('proposal-confirm').tap();
    await phone.locator('[data-testid="incident"][data-state="ready"]').waitFor();
    const got = await apiCall('GET', `proposals/${powerP.id}`);
    assert.equal(got.status, 'confirmed');
    assert.match(phone.url(), new RegExp(`#/incidente/${got.folio}`));
    await desk.locator(`[data-testid="board-item"][data-folio="${got.folio}"]`).waitFor();
  });

  it('a proposal announced while the list is on its way is not wiped by the older list', async () => {
    // The board loads the list when it opens and again when its stream is ready; here
    // both answers are held until the stream has announced a new proposal, then given:
    // they predate it, and the board must keep it.
    const ctx = await browser.newContext(DESKTOP);
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    watchErrors(page, errors);
    let release;
    const gate = new Promise((r) => { release = r; });
    let held = 0;
    const given = [];
    await page.route('**/api/v1/proposals', async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const res = await route.fetch(); // the list as it is now, before the alert
      held += 1;
      await gate;
      given.push(route.fulfill({ response: res }));
    });
    await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await page.getByTestId('live').waitFor();
    for (let i = 0; held < 2; i++) {
      assert.ok(i < 300, `the board asked for the list ${held} times, want 2`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const p = await sendAlert(monitor, notification(`Gap${stamp}`, `Proposal entre dos listas ${stamp}`));
    const item = page.locator(`[data-testid="proposal"][data-id="${p.id}"]`);
    await item.waitFor({ timeout: 30_000 }); // from the stream
    release();
    await Promise.all(given.length ? given : [Promise.resolve()]);
    for (let i = 0; i < 10; i++) { // the held answers have landed: it is still there
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await item.isVisible(), true, 'an older list wiped the proposal the stream announced');
    }
    await ctx.close();
  });

  it('has no script or CSP errors', () => {
    assert.deepEqual(errors, []);
  });
});
