// Browser test of the sign-in with email and password, the incident page and its live
// updates, and the change of password, against a running server, in Debian's headless
// Chromium.
//
// It shares its server with the other test files (all run in one `node --test`, maybe at
// the same time): the people, the user and the incident it creates carry a unique stamp,
// and what it counts is compared with the API. The server limits sign-ins per client, so
// it signs in once with a wrong password and once with the right one; the desktop page
// shares the phone's session.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';




// submit presses a form's button and returns the answer of its POST to pathEnd. Should
// the server's rate limit answer 429 (another test file signed in meanwhile), it waits
// as long as the page makes it wait, and presses again.
async function submit(page, testid, pathEnd) {
  for (let i = 0; ; i++) {
    // A password is hashed on purpose slowly (and far more slowly under the race detector).
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(pathEnd), { timeout: 45_000 });
    await page.getByTestId(testid).click();
    const res = await answer;
    if (res.status() !== 429 || i === 2) return res;
    const wait = Number(res.headers()['retry-after'] || 10);
    await page.locator(`[data-testid="${testid}"]:not([disabled])`).waitFor({ timeout: (wait + 5) * 1000 });
  }
}

describe('web app: sign-in with a password, the incident page, live', { skip, timeout: 150_000 }, () => {
  let browser;
  let phone;
  let desktop;
  let mobile; // phone page, 390×844
  let page; // desktop page, 1280×800, sharing the phone's session
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const domain = `inc-${stamp}.example.com`;
  const ana = { name: `Ana Incidente ${stamp}`, email: `ana@${domain}` };
  const beto = { name: `Beto Incidente ${stamp}`, email: `beto@${domain}` };
  const password = `caballo correcto batería ${stamp}`;
  const newPassword = `grapa de papel nueva ${stamp}`;
  let inc; // the incident as declared
  let rowOf; // person id → locator of a recipients row, on a page

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // Two people of the technology team, one of them a user who signs in with a password.
    const report = await apiCall('POST', 'people/import', {
      csv: [
        'name,email,phone,language,teams,manager_email',
        `${ana.name},${ana.email},+52 55 4444 1111,es,technology,`,
        `${beto.name},${beto.email},,en,technology,`,
      ].join('\n'),
    });
    assert.equal(report.created, 2, JSON.stringify(report));
    ana.id = (await apiCall('GET', `people/${ana.email}`)).id;
    beto.id = (await apiCall('GET', `people/${beto.email}`)).id;
    const user = await apiCall('POST', 'users', {
      json: { email: ana.email, name: ana.name, role: 'responder', password }, want: 201,
    });
    ana.user = user.id;
    inc = await apiCall('POST', 'incidents', {
      json: {
        title: `Sin enlace de datos en el sitio norte ${stamp}`, impact: 'high', urgency: 'high', teams: ['technology'],
        location: 'Monterrey, sitio norte', services: ['pagos', 'correo'], causes: ['fibra cortada'],
        description: 'Desde las 9:10 no hay enlace con el proveedor principal.\nEl respaldo no levantó.',
      },
      want: 201,
    });
    rowOf = (p, id) => p.locator(`[data-testid="recipient-row"][data-person-id="${id}"]`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    // No service worker: the test answers some reads of the incident itself, and a page
    // the worker controls is not routed (the worker's offline copy is tested in install.test.mjs).
    phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX', serviceWorkers: 'block',
    });
    phone.setDefaultTimeout(10_000);
    mobile = await phone.newPage();
    watchErrors(mobile, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('a wrong password shows the server\'s message', async () => {
    await mobile.goto(`${BASE}/#/tablero`);
    await mobile.locator('[data-testid="signin-form"][data-mode="password"]').waitFor();
    await mobile.getByTestId('signin-email').fill(ana.email);
    await mobile.getByTestId('signin-password').fill('not the password at all');
    const res = await submit(mobile, 'signin-submit', '/api/v1/session');
    const problem = await res.json();
    assert.equal(res.status(), 401, JSON.stringify(problem));
    assert.deepEqual(res.request().postDataJSON(), { email: ana.email, password: 'not the password at all' });
    const msg = mobile.getByTestId('signin-error');
    await msg.filter({ hasText: problem.detail }).waitFor();
    assert.equal(await msg.textContent(), problem.detail);
    assert.equal(await mobile.getByTestId('signin-password').getAttribute('aria-invalid'), 'true');
    // Nothing typed: said at once, nothing sent.
    await mobile.getByTestId('signin-password').fill('');
    await mobile.getByTestId('signin-submit').click();
    await msg.filter({ hasText: 'Escribe tu contraseña.' }).waitFor();
  });

  it('too many attempts disable the button for as long as the server says', async () => {
    // The server's 429, answered by the test so no real attempt is spent.
    await mobile.route('**/api/v1/session', (route) => route.fulfill({
      status: 429, headers: { 'Retry-After': '2' }, contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'Too many sign-in attempts. Wait a moment and try again.' }),
    }), { times: 1 });
    await mobile.getByTestId('signin-password').fill('another guess');
    await mobile.getByTestId('signin-submit').click();
    const msg = mobile.getByTestId('signin-error');
    await msg.filter({ hasText: /^Demasiados intentos; espera [12] s$/ }).waitFor();
    assert.equal(await mobile.getByTestId('signin-submit').isDisabled(), true);
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-signin-wait.png') });
    await mobile.locator('[data-testid="signin-submit"]:not([disabled])').waitFor({ timeout: 5_000 });
    assert.equal(await msg.isVisible(), false);
  });

  it('the phone signs in with email and password', async () => {
    await mobile.getByTestId('signin-password').fill(password);
    const res = await submit(mobile, 'signin-submit', '/api/v1/session');
    const me = await res.json();
    assert.equal(res.status(), 200, JSON.stringify(me));
    assert.equal(me.person_id, ana.id, 'the user is the directory person with the same email');
    await mobile.getByTestId('board-heading').waitFor();
    assert.match(await mobile.getByTestId('who').textContent(), new RegExp(`^${ana.name} · equipo de respuesta$`));
    assert.ok(mobile.url().endsWith('#/tablero'), mobile.url());
    // The desktop shares this session (one sign-in for both).
    desktop = await browser.newContext({
      viewport: { width: 1280, height: 800 }, locale: 'es-MX', storageState: await phone.storageState(), serviceWorkers: 'block',
    });
    desktop.setDefaultTimeout(10_000);
    page = await desktop.newPage();
    watchErrors(page, errors);
  });

  it('the board shows the acknowledgements of the audience and opens the incident page', async () => {
    const item = mobile.locator(`[data-testid="board-item"][data-folio="${inc.folio}"]`);
    await item.waitFor();
    assert.ok(inc.audience >= 2, `audience ${inc.audience}`);
    assert.equal(await item.getByTestId('item-acks').textContent(), `Acuses: 0 / ${inc.audience}`);
    await item.getByTestId('item-link').tap();
    await mobile.locator(`[data-testid="incident"][data-state="ready"][data-id="${inc.id}"]`).waitFor();
    assert.ok(mobile.url().endsWith(`#/incidente/${inc.folio}`), mobile.url());
    assert.equal(await mobile.getByTestId('incident-folio').textContent(), inc.folio);
    assert.equal(await mobile.getByTestId('incident-title').textContent(), inc.title);
    assert.equal(await mobile.getByTestId('incident-priority').textContent(), 'P2');
    assert.equal(await mobile.getByTestId('incident-status').textContent(), 'Declarada');
    assert.equal(await mobile.getByTestId('incident-location').textContent(), 'Monterrey, sitio norte');
    assert.match(await mobile.getByTestId('incident-services').textContent(), /pagos.*correo/);
    assert.match(await mobile.getByTestId('incident-teams').textContent(), /Tecnología/);
    assert.equal(await mobile.getByTestId('incident-reporter').textContent(), inc.reporter.name);
    assert.match(await mobile.getByTestId('incident-sla-ack').textContent(), /^Antes de las \d\d:\d\d · faltan \d+:\d\d$/);
    assert.match(await mobile.getByTestId('incident-sla-resolve').textContent(), /^Antes de las .+ · faltan .+$/);
    assert.equal(await mobile.getByTestId('incident-drill').count(), 0);

    // The recipients are the API's, this run's two people among them, nobody acknowledged.
    const full = await apiCall('GET', `incidents/${inc.id}`);
    const rows = mobile.getByTestId('recipient-row');
    assert.equal(await rows.count(), full.recipients.length);
    assert.equal(await rowOf(mobile, ana.id).getByTestId('recipient-name').textContent(), ana.name);
    assert.equal(await rowOf(mobile, beto.id).getByTestId('recipient-name').textContent(), beto.name);
    assert.equal(await rowOf(mobile, ana.id).getAttribute('data-acked'), 'false');
    assert.equal(await rowOf(mobile, ana.id).getByTestId('recipient-ack').textContent(), 'Pendiente');
    assert.ok((await mobile.getByTestId('recipients-summary').textContent()).startsWith(`0 de ${full.recipients.length} confirmaron`));
    const declared = mobile.locator('[data-testid="timeline-item"][data-type="incident.declared"]');
    assert.match(await declared.textContent(), new RegExp(`Declarada por ${inc.reporter.name}`));
    // On a phone the table is a list of cards, no wider than the screen.
    assert.equal(await mobile.locator('[data-testid="recipients-table"] thead').isVisible(), false);
    await noSidewaysScroll(mobile);
  });

  it('a desktop page follows the same incident', async () => {
    await page.goto(`${BASE}/#/incidente/${inc.id}`);
    await page.locator(`[data-testid="incident"][data-state="ready"][data-folio="${inc.folio}"]`).waitFor();
    await page.getByTestId('live').waitFor({ state: 'visible' });
    assert.equal(await page.locator('[data-testid="recipients-table"] thead').isVisible(), true);
    assert.equal(await rowOf(page, ana.id).getAttribute('data-acked'), 'false');
    await page.evaluate(() => { window.__marker = 'no-reload'; });
  });

  it('acknowledging shows in the table and the timeline, here and live on the desktop', async () => {
    await mobile.evaluate(() => { window.__marker = 'no-reload'; });
    const ack = mobile.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/v1/incidents/${inc.id}/ack`));
    await mobile.getByTestId('incident-ack').tap();
    assert.equal((await ack).status(), 200);
    await mobile.locator('[data-testid="incident-ack"][data-acked="true"]').waitFor();

    for (const p of [mobile, page]) {
      const row = p.locator(`[data-testid="recipient-row"][data-person-id="${ana.id}"][data-acked="true"]`);
      await row.waitFor({ timeout: 5_000 });
      assert.match(await row.getByTestId('recipient-ack').textContent(), /^✓ \d\d:\d\d · Web$/);
      assert.equal(await row.getByTestId('recipient-ack-channel').getAttribute('data-channel'), 'web');
      assert.equal(await rowOf(p, beto.id).getAttribute('data-acked'), 'false');
      const item = p.locator('[data-testid="timeline-item"][data-type="incident.acknowledged"]');
      await item.filter({ hasText: `${ana.name} acusó recibo en la web` }).waitFor({ timeout: 5_000 });
      await p.getByTestId('recipients-summary').filter({ hasText: /^1 de \d+ confirmaron/ }).waitFor();
      await p.getByTestId('incident-acks').filter({ hasText: `Acuses: 1 / ${inc.audience}` }).waitFor();
      await p.getByTestId('incident-status').filter({ hasText: 'Recibida' }).waitFor();
      await p.getByTestId('incident-sla-ack').filter({ hasText: /^Recibida a las \d\d:\d\d$/ }).waitFor();
      assert.equal(await p.evaluate(() => window.__marker), 'no-reload');
    }
    // Newest first: the acknowledgement above the declaration.
    assert.equal(await mobile.getByTestId('timeline-item').first().getAttribute('data-type'), 'incident.acknowledged');
    // Both pages share the person: the desktop's button says it is done too.
    await page.locator('[data-testid="incident-ack"][data-acked="true"]').waitFor();

    await mobile.evaluate(() => window.scrollTo(0, 0));
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-incident.png'), fullPage: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-incident.png'), fullPage: true });

    // Back on the board, the card counts it.
    await mobile.getByTestId('incident-back').tap();
    const card = mobile.locator(`[data-testid="board-item"][data-folio="${inc.folio}"]`);
    await card.getByTestId('item-acks').filter({ hasText: `Acuses: 1 / ${inc.audience}` }).waitFor();
    await card.locator('[data-testid="ack-button"][data-acked="true"]').waitFor();
  });

  it('deliveries show as coloured chips with their errors, counted on top, updated live', async () => {
    // The test server sends no SMS, so the deliveries are added to the server's answer
    // once a delivery frame (also from the test) says they changed.
    for (const [ctx, name] of [[desktop, 'desktop'], [phone, 'phone']]) {
      const probe = await ctx.newPage();
      watchErrors(probe, errors);
      let withDeliveries = false;
      let fetches = 0;
      await probe.route(`**/api/v1/incidents/${inc.id}`, async (route) => {
        if (route.request().method() !== 'GET') return route.continue();
        fetches += 1;
        const res = await route.fetch();
        const body = await res.json();
        if (withDeliveries) {
          const at = new Date().toISOString();
          for (const r of body.recipients) {
            if (r.person_id === ana.id) {
              r.deliveries = [
                { channel: 'sms', status: 'sent', attempts: 1, at },
                { channel: 'sms', status: 'delivered', attempts: 1, at },
                { channel: 'webpush', status: 'sent', attempts: 1, at },
              ];
            }
            if (r.person_id === beto.id) {
              r.deliveries = [
                { channel: 'sms', status: 'failed', attempts: 3, error: '21614: the number is not a mobile number', at },
                { channel: 'voice', status: 'queued', attempts: 0, at },
              ];
            }
          }
        }
        return route.fulfill({ response: res, json: body });
      });
      let socket;
      await probe.routeWebSocket(/\/api\/v1\/stream/, (ws) => {
        socket = ws;
        ws.connectToServer();
      });
      await probe.goto(`${BASE}/#/incidente/${inc.folio}`);
      await probe.locator('[data-testid="incident"][data-state="ready"]').waitFor();
      await probe.getByTestId('live').waitFor({ state: 'visible' });
      await probe.getByTestId('recipients-nodeliveries').waitFor();
      const before = fetches;

      // A burst of delivery frames: the page fetches again, at most once a second.
      withDeliveries = true;
      const frame = (status) => JSON.stringify({
        type: 'incident.delivery_updated', at: new Date().toISOString(),
        data: { incident_id: inc.id, person_id: beto.id, channel: 'sms', status },
      });
      for (const st of ['sending', 'sent', 'failed']) socket.send(frame(st));
      const row = rowOf(probe, beto.id);
      await row.locator('[data-testid="delivery"][data-channel="sms"][data-status="failed"]').waitFor({ timeout: 5_000 });
      await probe.waitForTimeout(1_500);
      assert.ok(fetches - before >= 1 && fetches - before <= 2, `${fetches - before} fetches for a burst of 3 frames`);
      // A frame about another incident changes nothing.
      const settled = fetches;
      socket.send(JSON.stringify({ type: 'incident.delivery_updated', at: new Date().toISOString(), data: { incident_id: 'inc_other', channel: 'sms', status: 'sent' } }));
      await probe.waitForTimeout(1_200);
      assert.equal(fetches, settled);

      const failed = row.locator('[data-testid="delivery"][data-channel="sms"]');
      assert.match(await failed.getAttribute('title'), /21614: the number is not a mobile number/);
      assert.equal(await row.getByTestId('delivery-error').textContent(), '21614: the number is not a mobile number');
      assert.equal(await rowOf(probe, ana.id).locator('[data-testid="delivery"][data-channel="sms"]').getAttribute('data-status'), 'delivered');
      assert.equal(await rowOf(probe, ana.id).locator('[data-testid="delivery"][data-channel="webpush"]').textContent(), 'Notificación: enviado');
      const full = await apiCall('GET', `incidents/${inc.id}`);
      const acked = full.recipients.filter((r) => r.acknowledged_at).length;
      assert.equal(await probe.getByTestId('recipients-summary').textContent(),
        `${acked} de ${full.recipients.length} confirmaron · SMS: 1 entregado, 1 fallido · Llamada: 1 en cola · Notificación: 1 enviado`);
      if (name === 'phone') await noSidewaysScroll(probe);
      await row.scrollIntoViewIfNeeded();
      await probe.evaluate(() => window.scrollTo(0, 0));
      await probe.screenshot({ path: path.join(ARTIFACTS, `${name}-incident-deliveries.png`), fullPage: true });
      await probe.close();
    }
  });

  it('the incident page speaks English too', async () => {
    await page.getByTestId('lang-en').click();
    await page.locator('#inc-rec-title').filter({ hasText: 'Recipients' }).waitFor();
    await page.locator('[data-testid="timeline-item"][data-type="incident.acknowledged"]').filter({ hasText: `${ana.name} acknowledged on the web` }).waitFor();
    assert.match(await page.getByTestId('recipients-summary').textContent(), /^1 of \d+ acknowledged/);
    assert.equal(await page.getByTestId('incident-status').textContent(), 'Acknowledged');
    await page.getByTestId('lang-es').click();
    await page.locator('#inc-rec-title').filter({ hasText: 'Destinatarios' }).waitFor();
  });

  it('"Mi perfil" changes the password', async () => {
    await mobile.getByTestId('nav-more').tap();
    await mobile.getByTestId('who').tap();
    const form = mobile.getByTestId('password-form');
    await form.waitFor();
    let sent = 0;
    mobile.on('request', (r) => { if (r.url().endsWith('/api/v1/me/password')) sent += 1; });

    // The two new ones differ: said at once, nothing sent.
    await mobile.getByTestId('pw-current').fill(password);
    await mobile.getByTestId('pw-new').fill(newPassword);
    await mobile.getByTestId('pw-repeat').fill(`${newPassword}x`);
    await mobile.getByTestId('password-save').tap();
    await mobile.getByTestId('pw-err-repeat').filter({ hasText: 'no coinciden' }).waitFor();
    assert.equal(sent, 0);

    // Too short: the server's words next to the field.
    await mobile.getByTestId('pw-new').fill('corta');
    await mobile.getByTestId('pw-repeat').fill('corta');
    const res = await submit(mobile, 'password-save', '/api/v1/me/password');
    const problem = await res.json();
    assert.equal(res.status(), 422, JSON.stringify(problem));
    assert.deepEqual(res.request().postDataJSON(), { current: password, new: 'corta' });
    const msg = problem.errors.find((e) => e.field === 'new').message;
    await mobile.getByTestId('pw-err-new').filter({ hasText: msg }).waitFor();
    assert.equal(await mobile.getByTestId('pw-new').getAttribute('aria-invalid'), 'true');
    await mobile.getByTestId('password-error').filter({ hasText: problem.detail }).waitFor();
    await mobile.getByTestId('password-form').scrollIntoViewIfNeeded();
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-password-error.png') });

    await mobile.getByTestId('pw-new').fill(newPassword);
    await mobile.getByTestId('pw-repeat').fill(newPassword);
    const ok = await submit(mobile, 'password-save', '/api/v1/me/password');
    assert.equal(ok.status(), 204);
    await mobile.getByTestId('password-done').waitFor();
    assert.equal(await mobile.getByTestId('pw-current').inputValue(), '');
    assert.equal(await mobile.getByTestId('pw-err-new').isVisible(), false);
    // This session stays.
    assert.equal(await mobile.evaluate(async () => (await fetch('/api/v1/me')).status), 200);
  });

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
