// Browser test of the readiness actions of "Mi perfil" — alerts in this browser (Web Push)
// and the verification of the phone — against a running server, in Debian's headless
// Chromium.
//
// Headless Chromium has no push service, so the page's PushManager is replaced (before any
// script of the page runs) by a fake that hands out a valid subscription: a real P-256
// public key and auth secret made here, and an https endpoint on a public-looking host
// that does not exist. The server stores it like any other; its test push then fails to
// reach the host, and the page must say so. The test server sends no SMS, so asking for a
// code shows the server's 503; the code form is driven with answers the test gives in the
// announced shape.
//
// It shares its server with the other test files (all run in one `node --test`, maybe at
// the same time): its person and user carry a unique stamp and belong to no team, so no
// other file's incident reaches them.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { generateKeyPairSync, randomBytes, randomInt, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';




// submit presses a button and returns the answer of its POST to pathEnd. Should the
// server's rate limit answer 429 (another test file signed in meanwhile), it waits as long
// as the page makes it wait, and presses again.
async function submit(page, testid, pathEnd) {
  for (let i = 0; ; i++) {
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(pathEnd));
    await page.getByTestId(testid).click();
    const res = await answer;
    if (res.status() !== 429 || i === 2) return res;
    const wait = Number(res.headers()['retry-after'] || 10);
    await page.locator(`[data-testid="${testid}"]:not([disabled])`).waitFor({ timeout: (wait + 5) * 1000 });
  }
}

// click presses a button and returns the answer of the request that matches.
async function click(page, testid, method, pathEnd) {
  const answer = page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname.endsWith(pathEnd));
  await page.getByTestId(testid).click();
  return answer;
}

// fakeSubscription is what a push service would hand the browser: an https endpoint and
// the browser's P-256 public key (65-byte uncompressed point) and 16-byte auth secret.
function fakeSubscription() {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  assert.equal(point.length, 65);
  return {
    endpoint: `https://push.example.test/send/${randomUUID()}`,
    p256dh: point.toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  };
}

// installFakePush runs in the page before its scripts: PushManager hands out the fake
// subscription (kept in localStorage, like a browser keeps its subscription across
// visits) and window.__fakePush records what the page asked for.
function installFakePush({ endpoint, p256dh, auth }) {
  if (typeof PushManager === 'undefined') return;
  const KEY = 'test.fake-push';
  const log = { subscribes: [], unsubscribes: 0 };
  window.__fakePush = log;
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const make = (key) => ({
    endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: unb64(key).buffer },
    getKey(name) { return name === 'p256dh' ? unb64(p256dh).buffer : name === 'auth' ? unb64(auth).buffer : null; },
    toJSON() { return { endpoint, expirationTime: null, keys: { p256dh, auth } }; },
    async unsubscribe() {
      log.unsubscribes += 1;
      localStorage.removeItem(KEY);
      return true;
    },
  });
  PushManager.prototype.subscribe = async function subscribe(opts) {
    // A push service that never answers, when the test asks for one.
    if (localStorage.getItem('test.fake-push-hang')) return new Promise(() => {});
    if (Notification.permission !== 'granted') throw new DOMException('Registration failed - permission denied', 'NotAllowedError');
    if (!opts || opts.userVisibleOnly !== true || !opts.applicationServerKey) throw new DOMException('bad options', 'NotSupportedError');
    const key = b64(new Uint8Array(opts.applicationServerKey));
    log.subscribes.push(key);
    localStorage.setItem(KEY, key);
    return make(key);
  };
  PushManager.prototype.getSubscription = async function getSubscription() {
    const key = localStorage.getItem(KEY);
    return key ? make(key) : null;
  };
  PushManager.prototype.permissionState = async function permissionState() {
    return Notification.permission === 'default' ? 'prompt' : Notification.permission;
  };
}

function problem(status, detail, errors) {
  return {
    status, contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'about:blank', title: 'Problem', status, detail, ...(errors ? { errors } : {}) }),
  };
}

describe('web app: "Mi perfil" — alerts in this browser and phone verification', { skip, timeout: 150_000 }, () => {
  let browser;
  let phone; // 390×844 context, notifications allowed, fake push service
  let mobile;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const last4 = String(randomInt(0, 10000)).padStart(4, '0');
  const eva = { name: `Eva Perfil ${stamp}`, email: `eva@prof-${stamp}.example.com`, phone: `+52 55 1234 ${last4}` };
  const password = `caballo correcto grapa ${stamp}`;
  const sub = fakeSubscription();
  let vapidKey;

  const pushCard = (p, st) => p.locator(`[data-testid="push-card"][data-state="${st}"]`);
  const phoneCard = (p, st) => p.locator(`[data-testid="phone-card"][data-state="${st}"]`);
  const pageGet = (p, url) => p.evaluate(async (u) => {
    const res = await fetch(u, { headers: { Accept: 'application/json' } });
    return { status: res.status, body: await res.json() };
  }, url);

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // A person of no team (no other file's incident reaches them) and their user.
    const report = await apiCall('POST', 'people/import', {
      csv: ['name,email,phone,language,teams,manager_email', `${eva.name},${eva.email},${eva.phone},es,,`].join('\n'),
    });
    assert.equal(report.created, 1, JSON.stringify(report));
    const person = await apiCall('GET', `people/${eva.email}`);
    eva.id = person.id;
    eva.e164 = person.phone;
    assert.equal(person.channels.phone_verified_at, null);
    await apiCall('POST', 'users', { json: { email: eva.email, name: eva.name, role: 'responder', password }, want: 201 });
    vapidKey = (await apiCall('GET', 'push/vapid-public-key')).key;
    assert.match(vapidKey, /^[A-Za-z0-9_-]{80,}$/);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX',
    });
    phone.setDefaultTimeout(10_000);
    await phone.grantPermissions(['notifications'], { origin: BASE });
    await phone.addInitScript(installFakePush, sub);
    mobile = await phone.newPage();
    watchErrors(mobile, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('the user signs in and opens "Mi perfil"', async () => {
    await mobile.goto(`${BASE}/#/perfil`);
    await mobile.locator('[data-testid="signin-form"][data-mode="password"]').waitFor();
    await mobile.getByTestId('signin-email').fill(eva.email);
    await mobile.getByTestId('signin-password').fill(password);
    const res = await submit(mobile, 'signin-submit', '/api/v1/session');
    assert.equal(res.status(), 200, await res.text());
    await mobile.getByTestId('profile-form').waitFor();
    assert.equal(await mobile.getByTestId('profile-name').textContent(), eva.name);
    assert.equal(await mobile.getByTestId('me-phone').inputValue(), eva.e164);
    // Neither channel is ready yet, and the page offers both actions.
    await phoneCard(mobile, 'idle').waitFor();
    assert.equal(await mobile.getByTestId('phone-start').textContent(), 'Verificar mi teléfono');
    await pushCard(mobile, 'ready').waitFor();
    assert.equal(await mobile.getByTestId('push-subscribe').textContent(), 'Recibir alertas en este navegador');
    assert.equal(await mobile.getByTestId('push-subscribe').isEnabled(), true);
    await mobile.getByTestId('push-none').waitFor();
    assert.equal(await mobile.getByTestId('ch-phone').getAttribute('data-state'), 'unverified');
    assert.equal(await mobile.getByTestId('ch-push').getAttribute('data-count'), '0');
  });

  it('"Verificar mi teléfono" shows the server\'s answer when it sends no SMS', async () => {
    const res = await click(mobile, 'phone-start', 'POST', '/api/v1/me/phone/verification');
    const body = await res.json();
    assert.equal(res.status(), 503, JSON.stringify(body));
    assert.ok(body.detail);
    await mobile.getByTestId('phone-error').filter({ hasText: body.detail }).waitFor();
    await phoneCard(mobile, 'idle').waitFor();
    assert.equal(await mobile.getByTestId('phone-code').count(), 0);
    assert.equal(await mobile.getByTestId('phone-start').isEnabled(), true);
  });

  it('the code is asked for, checked and confirmed (answers in the announced shape)', async () => {
    const probe = await phone.newPage();
    watchErrors(probe, errors);
    const person = await apiCall('GET', `people/${eva.id}`);
    const verifiedAt = new Date().toISOString();
    const startAnswers = [
      () => ({ status: 202, json: { sent_to: '+52 ••• 5678', expires_in_seconds: 600 } }),
      () => ({ ...problem(429, 'Too many attempts. Wait a moment and try again.'), headers: { 'Retry-After': '2' } }),
      () => ({ status: 202, json: { sent_to: '+52 ••• 5678', expires_in_seconds: 600 } }),
    ];
    const confirmAnswers = [
      () => problem(422, 'The code is wrong.', [{ field: 'code', message: 'is not the code we sent' }]),
      () => problem(409, 'The code has expired; ask for a new one.'),
      () => ({ status: 200, json: { ...person, channels: { ...person.channels, phone_verified_at: verifiedAt } } }),
    ];
    const sent = { start: 0, confirm: [] };
    await probe.route('**/api/v1/me/phone/verification', (route) => route.fulfill(startAnswers[sent.start++]()));
    await probe.route('**/api/v1/me/phone/verification/confirm', (route) => {
      sent.confirm.push(route.request().postDataJSON());
      return route.fulfill(confirmAnswers[sent.confirm.length - 1]());
    });
    await probe.goto(`${BASE}/#/perfil`);
    await phoneCard(probe, 'idle').waitFor();
    await probe.getByTestId('phone-start').click();
    await phoneCard(probe, 'code').waitFor();
    assert.match(await probe.getByTestId('phone-sent').textContent(), /^Enviamos un código de 6 dígitos al \+52 ••• 5678\. Vence en (10:00|9:5\d)\.$/);
    const code = probe.getByTestId('phone-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await probe.evaluate(() => document.activeElement?.dataset.testid), 'phone-code');
    await probe.getByTestId('phone-card').scrollIntoViewIfNeeded();
    await probe.screenshot({ path: path.join(ARTIFACTS, 'phone-profile-code.png') });

    // Not six digits: said at once, nothing sent.
    await code.fill('12a4');
    await probe.getByTestId('phone-confirm').click();
    await probe.getByTestId('phone-err-code').filter({ hasText: 'Escribe los 6 dígitos del código.' }).waitFor();
    assert.equal(sent.confirm.length, 0);

    // A wrong code: the field says so, the server's detail on top.
    await code.fill('123456');
    await probe.getByTestId('phone-confirm').click();
    await probe.getByTestId('phone-err-code').filter({ hasText: 'El código no coincide' }).waitFor();
    await probe.getByTestId('phone-error').filter({ hasText: 'The code is wrong.' }).waitFor();
    assert.equal(await code.getAttribute('aria-invalid'), 'true');
    assert.deepEqual(sent.confirm, [{ code: '123456' }]);

    // Expired (or too many tries, or a new phone): this code is over, ask for another.
    await code.fill('654321');
    await probe.getByTestId('phone-confirm').click();
    await phoneCard(probe, 'idle').waitFor();
    const over = probe.getByTestId('phone-error');
    await over.filter({ hasText: 'The code has expired; ask for a new one.' }).waitFor();
    assert.match(await over.textContent(), /Pide un código nuevo\./);
    assert.equal(await probe.getByTestId('phone-start').textContent(), 'Enviar otro código');

    // Too many requests: the button waits as long as the server says.
    await probe.getByTestId('phone-start').click();
    await probe.getByTestId('phone-wait').filter({ hasText: /^Demasiados intentos; espera [12] s$/ }).waitFor();
    assert.equal(await probe.getByTestId('phone-start').isDisabled(), true);
    await probe.locator('[data-testid="phone-start"]:not([disabled])').waitFor({ timeout: 5_000 });
    assert.equal(await probe.getByTestId('phone-wait').isVisible(), false);

    // A new code, the right one: the phone is verified.
    await probe.getByTestId('phone-start').click();
    await phoneCard(probe, 'code').waitFor();
    await probe.getByTestId('phone-code').fill('246810');
    await probe.getByTestId('phone-confirm').click();
    await phoneCard(probe, 'verified').waitFor();
    assert.deepEqual(sent.confirm, [{ code: '123456' }, { code: '654321' }, { code: '246810' }]);
    assert.equal(sent.start, 3);
    assert.match(await probe.getByTestId('phone-verified').textContent(), /Teléfono verificado el \d{1,2} de \S+ de \d{4}/);
    await probe.getByTestId('phone-done').waitFor();
    assert.equal(await probe.getByTestId('ch-phone').getAttribute('data-state'), 'verified');
    assert.equal(await probe.getByTestId('phone-start').count(), 0);
    await probe.getByTestId('phone-card').scrollIntoViewIfNeeded();
    await probe.screenshot({ path: path.join(ARTIFACTS, 'phone-profile-verified.png') });
    await probe.close();
  });

  it('an SMS opt-out (STOP) is shown with how to undo it', async () => {
    const probe = await phone.newPage();
    watchErrors(probe, errors);
    const person = await apiCall('GET', `people/${eva.id}`);
    await probe.route('**/api/v1/me/profile', (route) => route.fulfill({
      json: { ...person, channels: { ...person.channels, sms_opted_out_at: '2025-03-02T15:04:05Z' } },
    }));
    await probe.goto(`${BASE}/#/perfil`);
    const stop = probe.getByTestId('phone-stop');
    await stop.waitFor();
    assert.match(await stop.textContent(), /Respondiste STOP el 2 de marzo de 2025/);
    assert.match(await stop.textContent(), /responde START/);
    assert.equal(await probe.getByTestId('ch-stop').count(), 1);
    await probe.close();
  });

  it('a push service that does not answer is told honestly after the timeout', async () => {
    // The page's 10 s are shortened (the clock of the test); the push service hangs.
    await mobile.evaluate(() => { localStorage.setItem('test.fake-push-hang', '1'); window.__optimum.pushTimeout(1000); });
    await mobile.getByTestId('push-subscribe').click();
    const err = mobile.getByTestId('push-error');
    await err.waitFor({ timeout: 30_000 }); // the service worker may take a while to start on a busy machine
    const text = await err.textContent();
    assert.match(text, /El servicio de notificaciones del navegador no respondió en 1 s\. Nuestro servidor funciona/);
    assert.doesNotMatch(text, /No hay conexión con el servidor/);
    assert.equal(await mobile.getByTestId('push-subscribe').isEnabled(), true, 'the button is usable again');
    await mobile.evaluate(() => { localStorage.removeItem('test.fake-push-hang'); window.__optimum.pushTimeout(10_000); });
  });

  it('"Recibir alertas en este navegador" subscribes it', async () => {
    // First the server refuses the subscription (answered by the test): its problem is
    // shown and the browser drops the subscription, so nothing half-done remains.
    await mobile.route('**/api/v1/push/subscriptions', (route) => (route.request().method() === 'POST'
      ? route.fulfill(problem(422, 'The push subscription has errors.', [{ field: 'keys.p256dh', message: 'is not a point on the P-256 curve' }]))
      : route.fallback()), { times: 1 });
    await mobile.getByTestId('push-subscribe').click();
    const refused = mobile.getByTestId('push-error');
    await refused.filter({ hasText: 'The push subscription has errors.' }).waitFor();
    assert.match(await refused.textContent(), /keys\.p256dh: is not a point on the P-256 curve/);
    await pushCard(mobile, 'ready').waitFor();
    assert.equal(await mobile.evaluate(() => window.__fakePush.unsubscribes), 1);
    assert.equal(await mobile.evaluate(() => localStorage.getItem('test.fake-push')), null);

    // Then for real.
    const res = await click(mobile, 'push-subscribe', 'POST', '/api/v1/push/subscriptions');
    const saved = await res.json();
    assert.equal(res.status(), 201, JSON.stringify(saved));
    assert.deepEqual(res.request().postDataJSON(), { endpoint: sub.endpoint, expirationTime: null, keys: { p256dh: sub.p256dh, auth: sub.auth } });
    assert.equal(saved.endpoint_host, 'push.example.test');
    // The page subscribed with the server's key, asking for visible notifications only.
    assert.deepEqual(await mobile.evaluate(() => window.__fakePush.subscribes), [vapidKey, vapidKey]);
    // …through the app's service worker, registered for the whole app.
    const sw = await mobile.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration('/');
      return reg && { scope: reg.scope, script: reg.active?.scriptURL };
    });
    assert.deepEqual(sw, { scope: `${BASE}/`, script: `${BASE}/sw.js` });

    await pushCard(mobile, 'subscribed').waitFor();
    await mobile.getByTestId('push-notice').filter({ hasText: 'Listo: este navegador recibirá las alertas.' }).waitFor();
    const item = mobile.locator(`[data-testid="push-browser"][data-id="${saved.id}"]`);
    await item.waitFor();
    assert.equal(await item.getAttribute('data-this'), 'true');
    assert.match(await item.textContent(), /Este navegador/);
    assert.match(await item.textContent(), /push\.example\.test · suscrito hace \d+ s/);
    assert.equal(await mobile.getByTestId('push-test').textContent(), 'Probar notificación');
    assert.equal(await mobile.getByTestId('push-unsubscribe').textContent(), 'Dejar de recibir');
    assert.equal(await mobile.getByTestId('ch-push').getAttribute('data-count'), '1');

    // The server has it, for this person, without the endpoint (a capability) in sight.
    const list = await pageGet(mobile, '/api/v1/push/subscriptions');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((b) => b.id), [saved.id]);
    assert.equal(list.body[0].endpoint_host, 'push.example.test');
    assert.ok(!JSON.stringify(list.body).includes(sub.endpoint));
    assert.equal((await apiCall('GET', `people/${eva.id}`)).channels.push_subscriptions, 1);
    eva.browser = saved.id;
  });

  it('a visit again finds this browser subscribed', async () => {
    const res = mobile.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/push/subscriptions'));
    await mobile.reload();
    // The browser's subscription is saved again: the server already had it.
    assert.equal((await res).status(), 200);
    await pushCard(mobile, 'subscribed').waitFor();
    assert.equal(await mobile.locator(`[data-testid="push-browser"][data-id="${eva.browser}"]`).getAttribute('data-this'), 'true');
    assert.equal(await mobile.getByTestId('push-browser').count(), 1);

    // A subscription another account made in this browser is not taken over by a visit:
    // the page says whose it is and waits for the button.
    await mobile.evaluate(() => localStorage.setItem('optimum.push.person', 'per_someone_else'));
    let posts = 0;
    const count = (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/push/subscriptions')) posts += 1; };
    mobile.on('request', count);
    await mobile.reload();
    await pushCard(mobile, 'ready').waitFor();
    assert.match(await mobile.getByTestId('push-note').textContent(), /ya recibe las alertas de otra cuenta/);
    assert.equal(posts, 0);
    const again = await click(mobile, 'push-subscribe', 'POST', '/api/v1/push/subscriptions');
    assert.equal(again.status(), 200);
    await pushCard(mobile, 'subscribed').waitFor();
    mobile.off('request', count);
    assert.equal(posts, 1);
    assert.equal(await mobile.evaluate(() => localStorage.getItem('optimum.push.person')), eva.id);
    assert.equal(await mobile.evaluate(() => window.__fakePush.subscribes.length), 0, 'the subscription is reused');
  });

  it('"Probar notificación" tells the truth: the push service cannot be reached', async () => {
    const res = await click(mobile, 'push-test', 'POST', '/api/v1/push/test');
    const out = await res.json();
    assert.equal(res.status(), 200, JSON.stringify(out));
    assert.equal(out.sent, 0);
    assert.equal(out.results.length, 1);
    assert.equal(out.results[0].status, 'failed');
    const result = mobile.getByTestId('push-test-result');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-sent'), '0');
    assert.equal(await mobile.getByTestId('push-test-summary').textContent(), 'No se pudo enviar la prueba a ningún navegador.');
    const row = result.locator(`[data-testid="push-result"][data-id="${eva.browser}"]`);
    assert.equal(await row.getAttribute('data-status'), 'failed');
    assert.match(await row.getByTestId('push-result-text').textContent(), /: no se pudo enviar\.$/);
    // The server's error, with the endpoint cut to its host (the rest is a capability).
    const shown = await row.getByTestId('push-result-error').textContent();
    assert.equal(shown, out.results[0].error.replaceAll(sub.endpoint, 'https://push.example.test/…'));
    assert.ok(!shown.includes(new URL(sub.endpoint).pathname), shown);
    assert.equal(await mobile.locator('[data-testid="push-result"][data-status="sent"]').count(), 0);
    assert.doesNotMatch(await result.textContent(), /debería aparecer/);
    // The failure is recorded on the browser.
    await mobile.locator(`[data-testid="push-browser"][data-id="${eva.browser}"] [data-testid="push-last-fail"]`).waitFor();
    await mobile.evaluate(() => window.scrollTo(0, 0));
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'phone-profile.png'), fullPage: true });
  });

  it('"Dejar de recibir" unsubscribes this browser here and on the server', async () => {
    const res = await click(mobile, 'push-unsubscribe', 'DELETE', '/api/v1/push/subscriptions');
    assert.equal(res.status(), 204);
    assert.deepEqual(res.request().postDataJSON(), { endpoint: sub.endpoint });
    await pushCard(mobile, 'ready').waitFor();
    await mobile.getByTestId('push-notice').filter({ hasText: 'Este navegador ya no recibirá alertas.' }).waitFor();
    await mobile.getByTestId('push-none').waitFor();
    assert.equal(await mobile.evaluate(() => localStorage.getItem('test.fake-push')), null);
    assert.deepEqual((await pageGet(mobile, '/api/v1/push/subscriptions')).body, []);
    assert.equal(await mobile.getByTestId('ch-push').getAttribute('data-count'), '0');
  });

  it('a browser in the list is removed with its button', async () => {
    const res = await click(mobile, 'push-subscribe', 'POST', '/api/v1/push/subscriptions');
    const saved = await res.json();
    assert.equal(res.status(), 201, JSON.stringify(saved));
    const item = mobile.locator(`[data-testid="push-browser"][data-id="${saved.id}"]`);
    await item.waitFor();
    assert.deepEqual((await pageGet(mobile, '/api/v1/push/subscriptions')).body.map((b) => b.id), [saved.id]);
    assert.match(await item.getByTestId('push-remove').getAttribute('aria-label'), /^Quitar \S+/);

    const gone = mobile.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/api/v1/push/subscriptions/${saved.id}`));
    await item.getByTestId('push-remove').click();
    assert.equal((await gone).status(), 204);
    await item.waitFor({ state: 'detached' });
    await mobile.getByTestId('push-notice').filter({ hasText: /^Se quitó .+: ya no recibirá alertas\.$/ }).waitFor();
    // It was this browser: it no longer holds the subscription either.
    await pushCard(mobile, 'ready').waitFor();
    assert.equal(await mobile.evaluate(() => localStorage.getItem('test.fake-push')), null);
    assert.deepEqual((await pageGet(mobile, '/api/v1/push/subscriptions')).body, []);
    assert.equal((await apiCall('GET', `people/${eva.id}`)).channels.push_subscriptions, 0);
  });

  it('a blocked permission and a browser without push are explained', async () => {
    // Fresh browsers with this session (cookies only).
    const session = await phone.storageState();
    session.origins = [];
    const open = async (init) => {
      const ctx = await browser.newContext({
        viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'es-MX', storageState: session,
      });
      await ctx.addInitScript(installFakePush, sub);
      await ctx.addInitScript(init);
      const p = await ctx.newPage();
      watchErrors(p, errors);
      await p.goto(`${BASE}/#/perfil`);
      return { ctx, p };
    };

    const blocked = await open(() => {
      Object.defineProperty(Notification, 'permission', { get: () => 'denied', configurable: true });
    });
    await pushCard(blocked.p, 'denied').waitFor();
    const note = await blocked.p.getByTestId('push-note').textContent();
    assert.match(note, /bloqueadas las notificaciones/);
    assert.match(note, /cambia «Notificaciones» a «Permitir» y recarga/);
    assert.equal(await blocked.p.getByTestId('push-subscribe').isDisabled(), true);
    await blocked.p.getByTestId('push-card').scrollIntoViewIfNeeded();
    await blocked.p.screenshot({ path: path.join(ARTIFACTS, 'phone-profile-blocked.png') });
    await blocked.ctx.close();

    const old = await open(() => { delete window.PushManager; });
    await pushCard(old.p, 'unsupported').waitFor();
    assert.match(await old.p.getByTestId('push-note').textContent(), /no admite notificaciones/);
    assert.equal(await old.p.getByTestId('push-subscribe').isDisabled(), true);
    // The phone verification does not depend on it.
    await phoneCard(old.p, 'idle').waitFor();
    await old.ctx.close();
  });

  it('the cards speak English too', async () => {
    await mobile.getByTestId('lang-en').click();
    await mobile.locator('#push-title').filter({ hasText: 'Alerts in this browser' }).waitFor();
    assert.equal(await mobile.getByTestId('push-subscribe').textContent(), 'Get alerts in this browser');
    assert.equal(await mobile.locator('#phone-title').textContent(), 'Verify my phone');
    await mobile.getByTestId('lang-es').click();
    await mobile.locator('#push-title').filter({ hasText: 'Avisos en este navegador' }).waitFor();
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  });

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
