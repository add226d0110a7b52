// Browser test of sites and of the contacts people keep themselves (issue 18): the
// declare form offers the sites and sends the chosen ones; the board and the incident
// page name the site; "Mi perfil" saves a second phone, an alert email and the order of
// the channels, and shows the server's field errors. Phone (390×844) and desktop, with
// axe on each page.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> node --test sites.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, DESKTOP, axeProblems, smallTargets } from './a11y.mjs';

describe('web app: sites on the board and the declare form; contacts kept in "Mi perfil"', { skip, timeout: 150_000 }, () => {
  let browser;
  let phone;
  let desktop;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const site = { id: `torre-norte-${stamp}`, name: `Torre Norte ${stamp}`, city: 'CDMX', time_zone: 'America/Mexico_City' };
  const n = () => String(randomInt(0, 10000)).padStart(4, '0');
  const lia = { name: `Lía Sitio ${stamp}`, email: `lia@sites-${stamp}.example.com`, phone: `+52 55 2${n().slice(1)} ${n()}` };
  const password = `caballo correcto grapa ${stamp}`;
  let incident;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'sites', { json: site });
    const report = await apiCall('POST', 'people/import', {
      csv: ['name,email,phone,language,teams,manager_email,sites', `${lia.name},${lia.email},${lia.phone},es,,,${site.id}`].join('\n'),
    });
    assert.equal(report.created, 1, JSON.stringify(report));
    await apiCall('POST', 'users', { json: { email: lia.email, name: lia.name, role: 'reporter', password }, want: 201 });
    incident = await apiCall('POST', 'incidents', {
      json: { title: `Fuga de gas ${stamp}`, impact: 'high', urgency: 'high', location: 'Piso 3', sites: [site.id], teams: [] },
      want: 201,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    phone = await (await browser.newContext(PHONE)).newPage();
    desktop = await (await browser.newContext(DESKTOP)).newPage();
    phone.setDefaultTimeout(10_000);
    desktop.setDefaultTimeout(10_000);
    watchErrors(phone, errors);
    watchErrors(desktop, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('the desktop board names the site of an incident, and so does its page', async () => {
    await desktop.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await desktop.getByTestId('board-heading').waitFor();
    const item = desktop.locator(`[data-id="${incident.id}"]`);
    await item.getByTestId('item-sites').filter({ hasText: site.name }).waitFor();
    assert.deepEqual(await axeProblems(desktop), []);
    await desktop.screenshot({ path: path.join(ARTIFACTS, 'desktop-board-sites.png') });
    await item.getByTestId('item-title').click();
    await desktop.getByTestId('incident-sites').filter({ hasText: site.name }).waitFor();
  });

  it('the desktop readiness shows each site, and the reconfirm action answers', async () => {
    await desktop.goto(`${BASE}/#/directorio/preparacion`);
    const card = desktop.locator(`[data-testid="readiness-site"][data-site="${site.id}"]`);
    await card.waitFor();
    assert.ok((await card.textContent()).includes(site.name));
    assert.equal(await card.getAttribute('data-people'), '1');
    // This server sends no SMS: the action shows the server's 503 in Spanish.
    const res = desktop.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/readiness/reconfirm'));
    await desktop.getByTestId('reconfirm-send').click();
    const problem = await (await res).json();
    assert.equal((await res).status(), 503, JSON.stringify(problem));
    await desktop.getByTestId('reconfirm-error').filter({ hasText: problem.detail }).waitFor();
    assert.deepEqual(await axeProblems(desktop), []);
  });

  it('the desktop person form assigns sites, the first checked being the primary', async () => {
    const other = { id: `madrid-${stamp}`, name: `Oficina Madrid ${stamp}`, city: 'Madrid', time_zone: 'Europe/Madrid' };
    await apiCall('POST', 'sites', { json: other });
    const person = await apiCall('GET', `people/${lia.email}`);
    // A fresh page load, so the app's meta has the new site.
    await desktop.goto(`${BASE}/#/directorio/personas/${encodeURIComponent(person.id)}`);
    await desktop.reload();
    await desktop.getByTestId('pf-sites').waitFor();
    await desktop.getByTestId(`pf-site-${site.id}`).getByTestId('pf-site-primary').waitFor();
    await desktop.getByTestId(`pf-site-${other.id}`).click();
    assert.deepEqual(await axeProblems(desktop), []);
    const res = desktop.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes('/api/v1/people/'));
    await desktop.getByTestId('person-save').click();
    const saved = await (await res).json();
    assert.equal((await res).status(), 200, JSON.stringify(saved));
    assert.deepEqual(saved.sites, [site.id, other.id]);
    assert.equal(saved.primary_site, site.id);
  });

  it('the phone declare form offers the sites and sends the chosen one', async () => {
    await phone.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await phone.getByTestId('board-heading').waitFor();
    await phone.getByTestId('nav-declare').tap();
    await phone.getByTestId('declare-form').waitFor();
    const box = phone.getByTestId(`site-${site.id}`);
    await box.waitFor();
    assert.ok((await box.textContent()).includes(site.name));
    assert.deepEqual(await axeProblems(phone), []);
    assert.deepEqual(await smallTargets(phone), []);
    await noSidewaysScroll(phone);
    await box.tap();
    await phone.getByTestId('field-title').fill(`Simulacro de evacuación ${stamp}`);
    await phone.getByTestId('field-location').fill('Recepción');
    await phone.getByTestId('impact-low').tap();
    await phone.getByTestId('urgency-low').tap();
    await phone.getByTestId('more-summary').tap();
    await phone.getByTestId('drill').tap();
    const request = phone.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
    const answer = phone.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
    await phone.getByTestId('declare-submit').tap();
    assert.deepEqual((await request).postDataJSON().sites, [site.id]);
    const res = await answer;
    assert.equal(res.status(), 201, await res.text());
    assert.deepEqual((await res.json()).sites, [site.id]);
    await phone.getByTestId('folio').waitFor();
  });

  it('a lanzador declares only from a scenario, adding where it happens', async () => {
    const { token } = await apiCall('POST', 'tokens', { json: { name: `Recepción ${stamp}`, role: 'lanzador' }, want: 201 });
    const page = await (await browser.newContext(PHONE)).newPage();
    page.setDefaultTimeout(10_000);
    watchErrors(page, errors);
    await page.goto(`${BASE}/#/login?token=${encodeURIComponent(token)}`);
    await page.getByTestId('board-heading').waitFor();
    await page.getByTestId('nav-declare').tap();
    await page.getByTestId('tile-fire').waitFor();
    assert.equal(await page.getByTestId('tile-other').count(), 0);
    assert.equal(await page.getByTestId('field-title').count(), 0);
    await page.getByTestId('declare-submit').tap();
    await page.getByTestId('form-error').filter({ hasText: 'Elige un escenario' }).waitFor();
    await page.getByTestId('tile-fire').tap();
    await page.getByTestId('field-location').fill('Recepción, planta baja');
    await page.getByTestId(`site-${site.id}`).tap();
    assert.deepEqual(await axeProblems(page), []);
    assert.deepEqual(await smallTargets(page), []);
    await noSidewaysScroll(page);
    const request = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
    await page.getByTestId('declare-submit').tap();
    const body = (await request).postDataJSON();
    assert.deepEqual(body, { template: 'fire', location: 'Recepción, planta baja', drill: false, sites: [site.id] });
    const res = await answer;
    assert.equal(res.status(), 201, await res.text());
    await page.getByTestId('folio').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-lanzador-declared.png'), fullPage: true });
  });

  it('"Mi perfil" keeps a second phone, an alert email and the order of the channels', async () => {
    const page = await (await browser.newContext(PHONE)).newPage();
    page.setDefaultTimeout(10_000);
    watchErrors(page, errors);
    await page.goto(`${BASE}/#/perfil`);
    await page.locator('[data-testid="signin-form"][data-mode="password"]').waitFor();
    await page.getByTestId('signin-email').fill(lia.email);
    await page.getByTestId('signin-password').fill(password);
    await page.getByTestId('signin-submit').click();
    await page.getByTestId('profile-form').waitFor();
    await page.getByTestId('me-own-contacts').waitFor();

    // A bad second phone and email: the server's messages next to the fields.
    await page.getByTestId('me-phone2').fill('555');
    await page.getByTestId('me-email2').fill('no-es-correo');
    let res = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/api/v1/me/profile'));
    await page.getByTestId('profile-save').click();
    const problem = await (await res).json();
    assert.equal((await res).status(), 422, JSON.stringify(problem));
    await page.getByTestId('me-err-phone2').filter({ hasText: problem.errors.find((e) => e.field === 'phone2').message }).waitFor();
    await page.getByTestId('me-err-email2').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('me-phone2').getAttribute('aria-invalid'), 'true');

    // Good ones, with SMS moved to the top.
    const phone2 = `+52 55 3${n().slice(1)} ${n()}`;
    await page.getByTestId('me-phone2').fill(phone2);
    await page.getByTestId('me-email2').fill(`Lia.Casa@${stamp}.example.com`);
    await page.getByTestId('order-up-sms').click();
    assert.equal(await page.locator('[data-testid="me-channel-order"] li').first().getAttribute('data-testid'), 'order-sms');
    res = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/api/v1/me/profile'));
    await page.getByTestId('profile-save').click();
    const saved = await (await res).json();
    assert.equal((await res).status(), 200, JSON.stringify(saved));
    assert.equal(saved.phone2, phone2.replace(/ /g, ''));
    assert.equal(saved.contact_email, `lia.casa@${stamp}.example.com`);
    assert.equal(saved.channel_order[0], 'sms');
    await page.getByTestId('profile-saved').waitFor();
    await page.getByTestId('me-phone2-state').waitFor();
    await page.getByTestId('me-phone2-send').waitFor();
    assert.deepEqual(await axeProblems(page), []);
    assert.deepEqual(await smallTargets(page), []);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-profile-own-contacts.png'), fullPage: true });

    const me = await apiCall('GET', `people/${lia.email}`);
    assert.equal(me.phone2, saved.phone2);
    assert.deepEqual(errors, []);
  });
});
