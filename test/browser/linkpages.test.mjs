// Browser test of the public link pages, phone-sized (390×844): a requester's conformity
// page (/c/{token}) and a link that no longer works.
//
// The happy path ("Estoy conforme") is not red and both buttons are at least 44 px tall;
// accepting thanks the person; opening the link again says the crisis is closed, on the
// first view, without a button; an unknown one-tap link gets a page in the browser's
// language, never JSON.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';

describe('public link pages on a phone', { skip, timeout: 120_000 }, () => {
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const lucia = { name: `Lucía Paz ${stamp}`, email: `lucia-${stamp}@example.com`, password: `una frase larga ${stamp}` };
  const errors = [];
  let browser;
  let phone;
  let page;
  let conformityPath;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'people/import', {
      csv: `name,email,phone,language,teams,manager_email\n${lucia.name},${lucia.email},,es,links-${stamp},\n`,
    });
    await apiCall('POST', 'users', { json: { email: lucia.email, name: lucia.name, role: 'reporter', password: lucia.password }, want: 201 });
    const res = await fetch(`${BASE}/api/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: lucia.email, password: lucia.password }),
    });
    assert.equal(res.status, 200, `sign in: ${res.status} ${await res.text()}`);
    const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
    const asLucia = async (method, p, json, want = 200) => {
      const r = await fetch(`${BASE}/api/v1/${p}`, {
        method, headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: json ? JSON.stringify(json) : undefined,
      });
      const text = await r.text();
      assert.equal(r.status, want, `${method} ${p}: ${r.status} ${text}`);
      return text ? JSON.parse(text) : null;
    };
    const inc = await asLucia('POST', 'incidents', {
      title: `Fuga de agua ${stamp}`, impact: 'low', urgency: 'low', location: 'Piso 3', teams: [`links-${stamp}`],
    }, 201);
    await apiCall('POST', `incidents/${inc.id}/transitions`, { json: { to: 'investigating' } });
    await apiCall('POST', `incidents/${inc.id}/transitions`, { json: { to: 'resolved', note: 'Se cerró la llave de paso' } });
    // No link is ever stored or shown: the requester asks for one of their own.
    const messages = await asLucia('GET', `incidents/${inc.id}/messages`);
    assert.ok(messages.some((m) => m.kind === 'conformity' && m.answerable), `no answerable conformity request in ${JSON.stringify(messages)}`);
    const { url: link } = await asLucia('POST', `incidents/${inc.id}/conformity-link`, undefined, 201);
    conformityPath = new URL(link).pathname;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX',
    });
    phone.setDefaultTimeout(10_000);
    page = await phone.newPage();
    watchErrors(page, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('shows the solution with a calm "Estoy conforme" and two thumb-sized buttons', async () => {
    await page.goto(`${BASE}${conformityPath}`);
    const accept = page.locator('button[value="accept"]');
    const reject = page.locator('button[value="reject"]');
    await accept.waitFor();
    assert.match(await page.locator('.resolution').textContent(), /llave de paso/);
    const bg = await accept.evaluate((el) => getComputedStyle(el).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(!(r > 150 && g < 80 && b < 80), `the happy path is red: ${bg}`);
    for (const [name, button] of [['accept', accept], ['reject', reject]]) {
      const box = await button.boundingBox();
      assert.ok(box && box.height >= 44 && box.width >= 44, `${name} button is ${box?.width}×${box?.height}`);
    }
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'conformity-phone.png'), fullPage: true });
    await accept.click();
    await page.locator('.ack-done').waitFor();
    assert.match(await page.locator('.ack-done').textContent(), /Gracias/);
  });

  it('says the crisis is closed when the link is opened again, without a button', async () => {
    await page.goto(`${BASE}${conformityPath}`);
    const title = page.locator('.link-problem-title');
    await title.waitFor();
    assert.match(await title.textContent(), /ya se cerró/);
    assert.equal(await page.locator('button').count(), 0);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'conformity-closed-phone.png'), fullPage: true });
  });

  it('gives an unknown one-tap link a page in the browser\'s language, never JSON', async () => {
    const res = await page.goto(`${BASE}/a/nope${stamp}`);
    assert.equal(res.status(), 404);
    assert.match(res.headers()['content-type'], /^text\/html/);
    assert.match(await page.locator('.link-problem-title').textContent(), /Este enlace ya no funciona/);
    const english = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    const en = await english.newPage();
    await en.goto(`${BASE}/a/nope${stamp}`);
    assert.match(await en.locator('.link-problem-title').textContent(), /This link no longer works/);
    await english.close();
    await page.screenshot({ path: path.join(ARTIFACTS, 'link-unknown-phone.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });
});
