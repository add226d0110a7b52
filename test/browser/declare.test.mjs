// Browser test of the web app against a running server, in Debian's headless Chromium.
//
// A desktop page watches the live board while a phone page declares a crisis; the board
// must show it without a reload. Then the desktop page loses its stream, a crisis is
// declared meanwhile, and the board must catch up when the stream resumes with ?since=.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, watchErrors } from './harness.mjs';

const FOLIO = /^BCP-\d{4}-\d{6}$/;



// declareByAPI declares a crisis the way another client would: bearer token, no browser.
async function declareByAPI(title) {
  const res = await fetch(`${BASE}/api/v1/incidents`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': randomUUID(),
    },
    body: JSON.stringify({ title, impact: 'high', urgency: 'high', location: 'Monterrey', services: ['correo'] }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, `POST /api/v1/incidents: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

function boardItem(page, folio) {
  return page.locator(`[data-testid="board-item"][data-folio="${folio}"]`);
}

describe('web app: declare on a phone, watch on a desktop', { skip, timeout: 120_000 }, () => {
  let browser;
  let desktop;
  let phone;
  let board; // the desktop page
  let mobile; // the phone page
  const errors = [];
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  const title = `Caída del sistema de pagos ${stamp}`;
  let folio;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'es-MX' });
    phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX',
    });
    for (const ctx of [desktop, phone]) ctx.setDefaultTimeout(10_000);
    board = await desktop.newPage();
    mobile = await phone.newPage();
    watchErrors(board, errors);
    watchErrors(mobile, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('a wrong token shows the server\'s problem detail', async () => {
    await board.goto(`${BASE}/#/tablero`);
    await board.getByTestId('signin').waitFor();
    // Email and password come first; the token is the other way in.
    await board.locator('[data-testid="signin-form"][data-mode="password"]').waitFor();
    await board.getByTestId('signin-mode').click();
    await board.getByTestId('token-input').fill('not-a-real-token');
    await board.getByTestId('signin-submit').click();
    const msg = board.getByTestId('signin-error');
    await msg.waitFor();
    const res = await fetch(`${BASE}/api/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Accept-Language': 'es' }, body: JSON.stringify({ token: 'not-a-real-token' }),
    });
    const problem = await res.json();
    assert.equal(res.status, 401);
    assert.equal(await msg.textContent(), problem.detail);
  });

  it('the desktop signs in and the board goes live', async () => {
    await board.getByTestId('token-input').fill(TOKEN);
    await board.getByTestId('signin-submit').click();
    await board.getByTestId('board-heading').waitFor();
    assert.equal(await board.getByTestId('board-heading').textContent(), 'Tablero en vivo');
    await board.getByTestId('live').waitFor({ state: 'visible' });
    assert.equal((await board.getByTestId('live').textContent()).trim(), 'En vivo');
    await board.evaluate(() => { window.__marker = 'no-reload'; });
  });

  it('the phone signs in with a link and the token leaves the address bar', async () => {
    await mobile.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await mobile.getByTestId('board-heading').waitFor();
    assert.ok(!mobile.url().includes(TOKEN), `token still in ${mobile.url()}`);
    assert.ok(mobile.url().endsWith('#/tablero'), mobile.url());
  });

  it('the phone declares a crisis, shows the server\'s objections, and sees its folio', async () => {
    await mobile.getByTestId('nav-declare').tap();
    await mobile.getByTestId('declare-form').waitFor();

    // Nothing answered: the form says what is missing and sends nothing.
    await mobile.getByTestId('declare-submit').tap();
    await mobile.getByTestId('error-title').waitFor({ state: 'visible' });
    await mobile.getByTestId('error-impact').waitFor({ state: 'visible' });

    await mobile.getByTestId('field-title').fill(title);
    await mobile.getByTestId('field-location').fill('Ciudad de México, sitio norte');
    await mobile.getByTestId('impact-critical').tap();
    await mobile.getByTestId('urgency-critical').tap();

    // The server refuses a service name far too long: its problem+json detail shows on
    // top and its message next to the field it names ("services[0]"), under "Más
    // detalles", which opens by itself to show it.
    await mobile.getByTestId('more-summary').tap();
    await mobile.getByTestId('field-services').fill(`${'x'.repeat(500)}, pagos`);
    const refused = mobile.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
    await mobile.getByTestId('declare-submit').tap();
    const problem = await (await refused).json();
    assert.ok(problem.errors.some((e) => e.field.startsWith('services')), JSON.stringify(problem));
    await mobile.getByTestId('form-error').filter({ hasText: problem.detail }).waitFor();
    const fieldMsg = problem.errors.find((e) => e.field.startsWith('services')).message;
    await mobile.getByTestId('error-services').filter({ hasText: fieldMsg }).waitFor();
    assert.equal(await mobile.getByTestId('field-services').getAttribute('aria-invalid'), 'true');
    // What was typed is still there.
    assert.equal(await mobile.getByTestId('field-title').inputValue(), title);
    assert.equal(await mobile.getByTestId('field-location').inputValue(), 'Ciudad de México, sitio norte');
    const firstKey = (await refused).request().headers()['idempotency-key'];

    await mobile.getByTestId('field-services').fill('pagos, banca móvil');
    assert.equal(await mobile.getByTestId('error-services').isVisible(), false);
    assert.equal(await mobile.getByTestId('preview-priority').textContent(), 'P1');
    await mobile.evaluate(() => window.scrollTo(0, 0));
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-form.png'), fullPage: true });

    // The first send reaches the server but its answer is lost on the way back: the page
    // says so, and the retry carries the same Idempotency-Key, so nothing is declared twice.
    let lost;
    await mobile.route('**/api/v1/incidents', async (route) => {
      const res = await route.fetch();
      lost = { status: res.status(), body: await res.json(), key: route.request().headers()['idempotency-key'] };
      await route.abort('connectionreset');
    }, { times: 1 });
    await mobile.getByTestId('declare-submit').tap();
    await mobile.getByTestId('send-error').waitFor();
    assert.equal(lost.status, 201, JSON.stringify(lost.body));
    assert.equal(await mobile.getByTestId('declare-submit').isEnabled(), true);
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-confirm.png'), fullPage: true });

    const request = mobile.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
    await mobile.getByTestId('declare-submit').tap();
    const sent = await request;
    assert.equal(sent.headers()['idempotency-key'], lost.key);
    assert.match(sent.headers()['idempotency-key'] || '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(sent.headers()['idempotency-key'], firstKey, 'a changed declaration needs a new key');
    const body = sent.postDataJSON();
    assert.equal(body.title, title);
    assert.deepEqual(body.services, ['pagos', 'banca móvil']);
    assert.equal(body.impact, 'critical');
    assert.equal(body.urgency, 'critical');
    assert.ok(Array.isArray(body.teams) && body.teams.length > 0);

    const folioEl = mobile.getByTestId('folio');
    await folioEl.waitFor();
    folio = (await folioEl.textContent()).trim();
    assert.match(folio, FOLIO);
    assert.equal(folio, lost.body.folio);
    assert.equal(await mobile.getByTestId('result-priority').textContent(), 'P1');
    await mobile.getByTestId('result-ack-by').waitFor();
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-declare.png'), fullPage: true });
  });

  it('the desktop board shows it without a reload, and takes an acknowledgement', async () => {
    assert.ok(folio, 'no folio from the previous step');
    const list = await (await fetch(`${BASE}/api/v1/incidents?limit=100`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
    assert.equal(list.filter((x) => x.title === title).length, 1, 'the retried declaration was stored twice');
    const item = boardItem(board, folio);
    await item.waitFor({ timeout: 5_000 });
    assert.equal(await item.getByTestId('item-title').textContent(), title);
    assert.equal(await item.getByTestId('item-priority').textContent(), 'P1');
    assert.equal(await board.evaluate(() => window.__marker), 'no-reload');
    // P1 goes first.
    assert.equal(await board.getByTestId('board-item').first().getAttribute('data-priority'), 'P1');
    await board.screenshot({ path: path.join(ARTIFACTS, 'desktop-board.png') });

    await item.getByTestId('ack-button').click();
    await item.locator('[data-testid="ack-button"][data-acked="true"]').waitFor();
    await item.getByTestId('item-acks').filter({ hasText: 'Acuses: 1' }).waitFor();
    await item.getByTestId('item-status').filter({ hasText: 'Recibida' }).waitFor();
  });

  it('the board resumes with since= after a drop and shows what it missed', async () => {
    const before = await board.evaluate(() => window.__optimum.streamState());
    assert.ok(Number.isInteger(before.lastId), `lastId ${before.lastId}`);

    await board.evaluate(() => window.__optimum.dropStream({ hold: true }));
    await board.getByTestId('reconnecting').waitFor({ state: 'visible' });
    assert.equal((await board.getByTestId('reconnecting').textContent()).trim(), 'Reconectando…');
    assert.equal(await board.getByTestId('live').isVisible(), false);

    const missed = await declareByAPI(`Sin correo en Monterrey ${stamp}`);
    assert.match(missed.folio, FOLIO);
    await board.waitForTimeout(500);
    assert.equal(await boardItem(board, missed.folio).count(), 0, 'arrived while the stream was down');
    const seen = await board.evaluate(() => window.__optimum.streamState().lastId);

    await board.evaluate(() => window.__optimum.resumeStream());
    await boardItem(board, missed.folio).waitFor({ timeout: 5_000 });
    await board.getByTestId('reconnecting').waitFor({ state: 'hidden' });
    await board.getByTestId('live').waitFor({ state: 'visible' });
    const { url } = await board.evaluate(() => window.__optimum.streamState());
    assert.equal(new URL(url).searchParams.get('since'), String(seen));
    assert.equal(await board.evaluate(() => window.__marker), 'no-reload');
  });

  it('a dropped stream reconnects by itself', async () => {
    const shown = board.evaluate(() => new Promise((resolve) => {
      const el = document.querySelector('[data-testid="reconnecting"]');
      setTimeout(() => resolve(false), 5000);
      new MutationObserver((_, mo) => { if (!el.hidden) { mo.disconnect(); resolve(true); } })
        .observe(el, { attributes: true, attributeFilter: ['hidden'] });
    }));
    await board.evaluate(() => window.__optimum.dropStream());
    assert.equal(await shown, true);
    await board.getByTestId('reconnecting').waitFor({ state: 'hidden', timeout: 5_000 });
    await board.getByTestId('live').waitFor({ state: 'visible' });

    const after = await declareByAPI(`Tras reconectar ${stamp}`);
    await boardItem(board, after.folio).waitFor({ timeout: 5_000 });
    assert.equal(await board.evaluate(() => window.__marker), 'no-reload');
  });

  it('the language switch turns the board into English and is remembered', async () => {
    await board.getByTestId('lang-en').click();
    assert.equal(await board.getByTestId('board-heading').textContent(), 'Live board');
    assert.equal(await board.evaluate(() => document.documentElement.lang), 'en');
    assert.equal((await board.getByTestId('nav-declare').textContent()).trim(), 'Declare crisis');
    assert.equal(await board.evaluate(() => window.__marker), 'no-reload');
    await board.screenshot({ path: path.join(ARTIFACTS, 'desktop-board-en.png') });

    const again = await desktop.newPage();
    watchErrors(again, errors);
    await again.goto(`${BASE}/#/tablero`);
    await again.getByTestId('board-heading').filter({ hasText: 'Live board' }).waitFor();
    await again.goto(`${BASE}/?lang=es#/tablero`);
    await again.getByTestId('board-heading').filter({ hasText: 'Tablero en vivo' }).waitFor();
    await again.close();
  });

  it('signing out returns to the sign-in view', async () => {
    // On a phone "Salir" is in the "Más" menu.
    await mobile.getByTestId('nav-more').tap();
    await mobile.getByTestId('signout').tap();
    await mobile.getByTestId('signin').waitFor();
    const status = await mobile.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert.equal(status, 401);
  });

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
