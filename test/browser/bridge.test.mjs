// Browser test of the war-room bridge on the incident page, against a running server
// started with OPTIMUM_BRIDGE_NUMBER=+15005550009, in Debian's headless Chromium.
//
// A responder opens a P1 incident: the bridge card offers "Abrir llamada de crisis";
// opening it shows the number and the PIN, a link that dials both, "Nadie está en la
// llamada" and the opening on the timeline. A P4 incident has no bridge card.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test bridge.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';

describe('web app: the war-room bridge of an incident', { skip, timeout: 120_000 }, () => {
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const team = `bridge-${stamp}`;
  const rita = { name: `Rita Gómez ${stamp}`, email: `rita-${stamp}@example.com`, password: `una frase larga ${stamp}` };
  const errors = [];
  let browser;
  let page;
  let p1;
  let p4;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'people/import', {
      csv: `name,email,phone,language,teams,manager_email\n${rita.name},${rita.email},,es,${team},\n`,
    });
    await apiCall('POST', 'users', { json: { email: rita.email, name: rita.name, role: 'responder', password: rita.password }, want: 201 });
    p1 = await apiCall('POST', 'incidents', {
      json: { title: `Caída del centro de datos ${stamp}`, impact: 'critical', urgency: 'critical', teams: [team] }, want: 201,
    });
    p4 = await apiCall('POST', 'incidents', {
      json: { title: `Impresora sin tóner ${stamp}`, impact: 'medium', urgency: 'medium', teams: [team] }, want: 201,
    });
    const res = await fetch(`${BASE}/api/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: rita.email, password: rita.password }),
    });
    assert.equal(res.status, 200, `sign in: ${res.status} ${await res.text()}`);
    const [pair] = (res.headers.get('set-cookie') || '').split(';');
    const eq = pair.indexOf('=');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const desktop = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'es-MX' });
    desktop.setDefaultTimeout(10_000);
    await desktop.addCookies([{ name: pair.slice(0, eq), value: pair.slice(eq + 1), url: BASE }]);
    page = await desktop.newPage();
    watchErrors(page, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('opens the bridge of a P1 incident and shows its number, PIN and who is on it', async () => {
    await page.goto(`${BASE}/#/incidente/${p1.folio}`);
    const open = page.getByTestId('bridge-open');
    await open.waitFor();
    assert.equal((await open.textContent()).trim(), 'Abrir llamada de crisis');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/incidents/${p1.id}/bridge`));
    await open.click();
    const res = await answer;
    assert.equal(res.status(), 200, `open: ${res.status()} ${await res.text()}`);
    const { bridge } = await res.json();
    assert.match(bridge.pin, /^\d{6}$/);
    const dial = page.getByTestId('bridge-dial');
    await dial.waitFor();
    assert.match(await dial.textContent(), new RegExp(`Marca \\+15005550009 y el PIN ${bridge.pin}`));
    assert.equal(await page.getByTestId('bridge-join').getAttribute('href'), `tel:+15005550009,,${bridge.pin}`);
    assert.equal((await page.getByTestId('bridge-nobody').textContent()).trim(), 'Nadie está en la llamada.');
    const opened = page.locator('[data-testid="timeline-item"][data-type="incident.bridge_opened"]');
    await opened.waitFor();
    assert.match(await opened.textContent(), new RegExp(`abrió la llamada de crisis \\(PIN ${bridge.pin}\\)`));
    await page.screenshot({ path: path.join(ARTIFACTS, 'bridge-open.png'), fullPage: true });
  });

  it('offers no bridge on a P4 incident', async () => {
    await page.goto(`${BASE}/#/incidente/${p4.folio}`);
    await page.getByTestId('incident-folio').filter({ hasText: p4.folio }).waitFor();
    await page.getByTestId('timeline').waitFor();
    assert.equal(await page.getByTestId('bridge').count(), 0);
    assert.deepEqual(errors, []);
  });
});
