// Browser test of the safety poll ("¿Estás a salvo?") against a running server, in
// Debian's headless Chromium, phone-sized.
//
// A person of the directory with an account opens an earthquake alert that asks whether
// people are safe; the page offers "Estoy a salvo" and "Necesito ayuda" instead of a plain
// acknowledgement. Answering "Necesito ayuda" records it (and acknowledges), her row shows
// the answer, and the live board counts one person needing help. The declare form offers
// the poll.
//
// Its person, user and team carry a unique stamp, so no other file's incident reaches them.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';

describe('web app: answer a safety poll from a phone', { skip, timeout: 120_000 }, () => {
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const team = `poll-${stamp}`;
  const sofia = { name: `Sofía Ruiz ${stamp}`, email: `sofia-${stamp}@example.com`, password: `una frase larga ${stamp}` };
  const errors = [];
  let browser;
  let page;
  let wide; // a desktop page (1366×900) with the same session
  let inc;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'people/import', {
      csv: `name,email,phone,language,teams,manager_email\n${sofia.name},${sofia.email},+52 55 1234 5678,es,${team},\n`,
    });
    await apiCall('POST', 'users', { json: { email: sofia.email, name: sofia.name, role: 'responder', password: sofia.password }, want: 201 });
    inc = await apiCall('POST', 'incidents', {
      json: { title: `Sismo de magnitud 7.1 ${stamp}`, impact: 'critical', urgency: 'critical', location: 'CDMX', teams: [team], safety_poll: true },
      want: 201,
    });
    // Her session, as the sign-in form would get it.
    const res = await fetch(`${BASE}/api/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: sofia.email, password: sofia.password }),
    });
    assert.equal(res.status, 200, `sign in: ${res.status} ${await res.text()}`);
    const [pair] = (res.headers.get('set-cookie') || '').split(';');
    const eq = pair.indexOf('=');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX',
    });
    phone.setDefaultTimeout(10_000);
    await phone.addCookies([{ name: pair.slice(0, eq), value: pair.slice(eq + 1), url: BASE }]);
    page = await phone.newPage();
    watchErrors(page, errors);
    const desktop = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'es-MX' });
    desktop.setDefaultTimeout(10_000);
    await desktop.addCookies([{ name: pair.slice(0, eq), value: pair.slice(eq + 1), url: BASE }]);
    wide = await desktop.newPage();
    watchErrors(wide, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('offers both answers instead of a plain acknowledgement, and records "Necesito ayuda"', async () => {
    await page.goto(`${BASE}/#/incidente/${inc.folio}`);
    const help = page.getByTestId('incident-answer-help_needed');
    await help.waitFor();
    assert.equal(await page.getByTestId('incident-ack').count(), 0, 'a poll must not offer a plain acknowledgement');
    assert.equal((await page.getByTestId('incident-answer-safe').textContent()).trim(), 'Estoy a salvo');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/incidents/${inc.id}/ack`));
    await help.click();
    const res = await answer;
    assert.equal(res.status(), 200, `answer: ${res.status()} ${await res.text()}`);
    assert.deepEqual(JSON.parse(res.request().postData()), { safety: 'help_needed' });
    await page.locator('[data-testid="incident-answer-help_needed"][aria-pressed="true"]').waitFor();
    const mine = page.locator('[data-testid="recipient-row"]', { hasText: sofia.name }).getByTestId('recipient-safety');
    await mine.waitFor();
    assert.equal(await mine.getAttribute('data-safety'), 'help_needed');
    await page.screenshot({ path: path.join(ARTIFACTS, 'safety-incident-phone.png'), fullPage: true });
  });

  it('lists who needs help with the time of the answer and a link that calls them, at both sizes', async () => {
    const { recipients } = await apiCall('GET', `incidents/${inc.id}`);
    const at = recipients.find((r) => r.name === sofia.name).safety_at;
    const hhmm = new Intl.DateTimeFormat('es-MX', { hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(at));
    await wide.goto(`${BASE}/#/incidente/${inc.folio}`);
    for (const [p, size] of [[page, 'phone'], [wide, 'desktop']]) {
      const person = p.locator('[data-testid="help-list"] [data-testid="help-person"]', { hasText: sofia.name });
      await person.waitFor();
      assert.equal(await person.getByTestId('help-at').textContent(), `respondió a las ${hhmm}`);
      const call = person.getByTestId('help-call');
      await call.waitFor();
      assert.equal(await call.getAttribute('href'), 'tel:+525512345678');
      // The list comes before the management.
      const order = await p.evaluate(() => {
        const help = document.querySelector('[data-testid="help-list"]').getBoundingClientRect().top;
        const manage = document.querySelector('[data-testid="incident-manage"]').getBoundingClientRect().top;
        return help < manage;
      });
      assert.ok(order, `${size}: "Necesitan ayuda" is below "Gestionar"`);
      await p.screenshot({ path: path.join(ARTIFACTS, `safety-help-${size}.png`), fullPage: true });
    }
  });

  it('shows on the live board how many need help', async () => {
    await page.goto(`${BASE}/#/tablero`);
    const line = page.locator(`[data-testid="board-item"][data-folio="${inc.folio}"] [data-testid="item-safety"]`);
    await line.waitFor();
    assert.equal(await line.getAttribute('data-help'), '1');
    assert.match(await line.textContent(), /1 necesita ayuda/);
    assert.doesNotMatch(await line.textContent(), /necesitan/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'safety-board-phone.png'), fullPage: true });
  });

  it('answers the poll from the board card, at both sizes', async () => {
    const card = page.locator(`[data-testid="board-item"][data-folio="${inc.folio}"]`);
    assert.equal(await card.getByTestId('ack-button').count(), 0, 'a poll must not offer a plain acknowledgement');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/incidents/${inc.id}/ack`));
    await card.getByTestId('board-answer-safe').tap();
    assert.deepEqual(JSON.parse((await answer).request().postData()), { safety: 'safe' });
    await card.locator('[data-testid="board-answer-safe"][aria-pressed="true"]').waitFor();
    await card.locator('[data-testid="item-safety"][data-safe="1"][data-help="0"]').waitFor();
    assert.equal((await card.getByTestId('item-safety').textContent()).trim(), '1 a salvo');

    await wide.goto(`${BASE}/#/tablero`);
    const wideCard = wide.locator(`[data-testid="board-item"][data-folio="${inc.folio}"]`);
    await wideCard.getByTestId('board-answer-help_needed').click();
    await wideCard.locator('[data-testid="item-safety"][data-safe="0"][data-help="1"]').waitFor();
    await wide.screenshot({ path: path.join(ARTIFACTS, 'safety-board-desktop.png'), fullPage: true });
  });

  it('lets the declare form ask the poll', async () => {
    await page.goto(`${BASE}/#/declarar`);
    await page.getByTestId('more-summary').tap();
    const box = page.getByTestId('safety-poll');
    await box.waitFor();
    assert.match(await box.textContent(), /está a salvo/);
    await box.locator('input').check();
    assert.equal(await box.locator('input').isChecked(), true);
    assert.deepEqual(errors, []);
  });
});
