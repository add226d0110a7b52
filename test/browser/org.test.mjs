// Browser test of the organisation pages (issue 18): the sites page (Directorio → Sitios:
// create and edit a site, the server's field errors next to the fields, who and which
// teams are at each site), the scope card of a user and the access page (an admin limits
// a manager to teams and sites), and the indicators by site, limited by the viewer's
// scope. Phone (390×844) and desktop, with axe on each page; Spanish, and one English
// check.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> node --test org.test.mjs
//
// It shares its server with the other files: its sites, team and people carry this run's
// stamp, and the indicators are filtered by a service unique to this run.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, DESKTOP, axeProblems, smallTargets } from './a11y.mjs';

describe('web app: sites, users limited to teams and sites, indicators by site', { skip, timeout: 180_000 }, () => {
  let browser;
  let desktop;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const norte = { id: `norte-${stamp}`, name: `Torre Norte ${stamp}`, city: 'CDMX', time_zone: 'America/Mexico_City' };
  const sur = { id: `lima-${stamp}`, name: `Sede Lima ${stamp}`, city: `Lima ${stamp}`, time_zone: 'America/Lima' };
  const team = { id: `ti-${stamp}`, name_es: `TI ${stamp}`, name_en: `IT ${stamp}`, sites: [norte.id] };
  const n = () => String(randomInt(0, 10000)).padStart(4, '0');
  const ana = { name: `Ana Norte ${stamp}`, email: `ana@org-${stamp}.example.com`, phone: `+52 55 4${n().slice(1)} ${n()}` };
  const beto = { name: `Beto Lima ${stamp}`, email: `beto@org-${stamp}.example.com`, phone: `+51 9${n()}${n()}` };
  const gerente = { name: `Gerente Norte ${stamp}`, email: `gerente@org-${stamp}.example.com`, phone: `+52 55 5${n().slice(1)} ${n()}` };
  const password = `caballo correcto grapa ${stamp}`;
  const service = `nomina-${stamp}`;
  let gerenteUser;

  const signInWithPassword = async (page, route) => {
    await page.goto(`${BASE}/#/${route}`);
    await page.locator('[data-testid="signin-form"][data-mode="password"]').waitFor();
    await page.getByTestId('signin-email').fill(gerente.email);
    await page.getByTestId('signin-password').fill(password);
    await page.getByTestId('signin-submit').click();
  };

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'sites', { json: norte });
    await apiCall('POST', 'sites', { json: sur });
    await apiCall('POST', 'teams', { json: team });
    const report = await apiCall('POST', 'people/import', {
      csv: ['name,email,phone,language,teams,manager_email,sites',
        `${ana.name},${ana.email},${ana.phone},es,${team.id},,${norte.id}`,
        `${beto.name},${beto.email},${beto.phone},es,,,${sur.id}`,
        `${gerente.name},${gerente.email},${gerente.phone},es,,,${norte.id}`].join('\n'),
    });
    assert.equal(report.created, 3, JSON.stringify(report));
    gerenteUser = await apiCall('POST', 'users', { json: { email: gerente.email, name: gerente.name, role: 'manager', password }, want: 201 });
    await apiCall('PATCH', `users/${gerenteUser.id}`, { json: { scope: { sites: [norte.id] } } });
    // Two real incidents of this run's service: one at each site.
    for (const site of [norte, sur]) {
      await apiCall('POST', 'incidents', {
        json: { title: `Corte de energía ${site.name}`, services: [service], impact: 'medium', urgency: 'medium', sites: [site.id], teams: [] },
        want: 201,
      });
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    desktop = await (await browser.newContext(DESKTOP)).newPage();
    desktop.setDefaultTimeout(10_000);
    watchErrors(desktop, errors);
    await desktop.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await desktop.getByTestId('board-heading').waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  it('the desktop sites page lists the sites, and who and which teams are at each', async () => {
    await desktop.goto(`${BASE}/#/directorio/sitios`);
    await desktop.getByTestId('dir-tab-sites').waitFor();
    assert.equal(await desktop.getByTestId('dir-tab-sites').getAttribute('aria-current'), 'page');
    const row = desktop.locator(`[data-testid="site-row"][data-id="${norte.id}"]`);
    await row.waitFor();
    assert.equal((await row.getByTestId('site-name').textContent()).trim(), norte.name);
    assert.equal((await row.getByTestId('site-city').textContent()).trim(), 'CDMX');
    assert.equal((await row.getByTestId('site-tz').textContent()).trim(), 'America/Mexico_City');
    assert.equal((await row.getByTestId('site-people').textContent()).trim(), '2 personas');
    assert.equal((await row.getByTestId('site-state').textContent()).trim(), 'En uso');
    await row.getByTestId('site-who').click();
    const at = desktop.locator(`[data-testid="site-at"][data-site="${norte.id}"]`);
    await at.getByTestId('site-person').filter({ hasText: ana.name }).waitFor();
    await at.getByTestId('site-person').filter({ hasText: gerente.name }).waitFor();
    assert.equal(await at.getByTestId('site-person').filter({ hasText: beto.name }).count(), 0);
    assert.equal((await at.getByTestId('site-team').textContent()).trim(), team.name_es);
    assert.equal(await row.getByTestId('site-who').getAttribute('aria-expanded'), 'true');
    assert.deepEqual(await axeProblems(desktop), []);
    await desktop.screenshot({ path: path.join(ARTIFACTS, 'desktop-sites.png'), fullPage: true });
  });

  it('creating a site shows the server\'s field errors next to the fields, then saves it', async () => {
    await desktop.goto(`${BASE}/#/directorio/sitios`);
    const name = `Planta Querétaro ${stamp}`;
    await desktop.getByTestId('sf-name').fill(name);
    assert.equal(await desktop.getByTestId('sf-id').inputValue(), `planta-queretaro-${stamp}`);
    await desktop.getByTestId('sf-time_zone').selectOption('America/Mexico_City');
    // No city: the server says what is wrong, next to the field.
    let res = desktop.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/sites'));
    await desktop.getByTestId('site-create').click();
    const problem = await (await res).json();
    assert.equal((await res).status(), 422, JSON.stringify(problem));
    const cityError = problem.errors.find((e) => e.field === 'city');
    assert.ok(cityError, JSON.stringify(problem));
    await desktop.getByTestId('sferr-city').filter({ hasText: cityError.message }).waitFor();
    assert.match(cityError.message, /obligatori/); // in Spanish, as the page is
    assert.equal(await desktop.getByTestId('sf-city').getAttribute('aria-invalid'), 'true');
    assert.equal(await desktop.getByTestId('sferr-name').isVisible(), false);
    assert.deepEqual(await axeProblems(desktop), []);
    await desktop.getByTestId('sf-city').fill('Querétaro');
    assert.equal(await desktop.getByTestId('sf-city').getAttribute('aria-invalid'), null);
    res = desktop.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/sites'));
    await desktop.getByTestId('site-create').click();
    const saved = await (await res).json();
    assert.equal((await res).status(), 200, JSON.stringify(saved));
    assert.deepEqual({ id: saved.id, name: saved.name, city: saved.city, time_zone: saved.time_zone, active: saved.active },
      { id: `planta-queretaro-${stamp}`, name, city: 'Querétaro', time_zone: 'America/Mexico_City', active: true });
    await desktop.getByTestId('site-notice').filter({ hasText: name }).waitFor();
    await desktop.locator(`[data-testid="site-row"][data-id="${saved.id}"]`).waitFor();

    // Edited: another time zone, and out of use.
    const row = desktop.locator(`[data-testid="site-row"][data-id="${saved.id}"]`);
    await row.getByTestId('site-edit').click();
    await desktop.getByTestId('se-time_zone').selectOption('America/Monterrey');
    await desktop.getByTestId('se-active').click();
    res = desktop.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/api/v1/sites/${saved.id}`));
    await desktop.getByTestId('site-save').click();
    const edited = await (await res).json();
    assert.equal((await res).status(), 200, JSON.stringify(edited));
    assert.equal(edited.time_zone, 'America/Monterrey');
    assert.equal(edited.active, false);
    await desktop.locator(`[data-testid="site-row"][data-id="${saved.id}"][data-active="false"]`).waitFor();
    assert.equal((await row.getByTestId('site-state').textContent()).trim(), 'Fuera de uso');
    const listed = (await apiCall('GET', 'sites')).find((s) => s.id === saved.id);
    assert.equal(listed.active, false);
  });

  it('an admin limits a manager to teams and sites on their record, and the access page shows it', async () => {
    await desktop.goto(`${BASE}/#/directorio/personas/${encodeURIComponent((await apiCall('GET', `people/${gerente.email}`)).id)}`);
    const card = desktop.getByTestId('scope-card');
    await card.waitFor();
    await card.getByTestId('scope-current').filter({ hasText: `Limitado a: ${norte.name}` }).waitFor();
    assert.equal(await card.locator(`[data-testid="scope-sites-${norte.id}"] input`).isChecked(), true);
    await card.getByTestId(`scope-teams-${team.id}`).click();
    assert.deepEqual(await axeProblems(desktop), []);
    const req = desktop.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith(`/api/v1/users/${gerenteUser.id}`));
    const res = desktop.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith(`/api/v1/users/${gerenteUser.id}`));
    await card.getByTestId('scope-save').click();
    assert.deepEqual((await req).postDataJSON(), { scope: { teams: [team.id], sites: [norte.id] } });
    assert.equal((await res).status(), 200);
    await card.getByTestId('scope-saved').waitFor();
    await card.getByTestId('scope-current').filter({ hasText: `Limitado a: ${team.name_es} · ${norte.name}` }).waitFor();
    const user = await apiCall('GET', `users/${gerenteUser.id}`);
    assert.deepEqual(user.scope, { teams: [team.id], sites: [norte.id] });

    await desktop.getByTestId('dir-tab-access').click();
    const row = desktop.locator(`[data-testid="user-row"][data-email="${gerente.email}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-limited'), 'true');
    assert.equal((await row.getByTestId('user-scope').textContent()).trim(), `Limitado a: ${team.name_es} · ${norte.name}`);
    assert.equal((await row.getByTestId('user-role').textContent()).trim(), 'responsable de continuidad');
    assert.deepEqual(await axeProblems(desktop), []);
    await desktop.screenshot({ path: path.join(ARTIFACTS, 'desktop-access.png'), fullPage: true });
  });

  it('the desktop indicators page has a table by site, a site filter and its CSV', async () => {
    await desktop.goto(`${BASE}/#/indicadores?servicio=${encodeURIComponent(service)}`);
    const table = desktop.getByTestId('ind-site-table');
    await table.waitFor();
    await table.locator(`[data-testid="ind-site-row"][data-site="${norte.id}"]`).waitFor();
    await table.locator(`[data-testid="ind-site-row"][data-site="${sur.id}"]`).waitFor();
    assert.equal(await table.getByTestId('ind-site-row').count(), 2);
    assert.equal(await desktop.getByTestId('ind-scope').count(), 0);
    assert.deepEqual(await axeProblems(desktop), []);
    // The same figures as the API's.
    const api = await apiCall('GET', `indicators?service=${encodeURIComponent(service)}`);
    assert.deepEqual(api.by_site.map((r) => [r.site, r.incidents]), [[sur.id, 1], [norte.id, 1]].sort());
    const cells = await table.locator(`[data-testid="ind-site-row"][data-site="${norte.id}"] td`).allTextContents();
    assert.ok(cells[0].includes(norte.name) && cells[1] === '1', cells.join(' | '));

    await desktop.getByTestId('ind-site').selectOption(sur.id);
    await desktop.waitForFunction((id) => {
      const rows = [...document.querySelectorAll('[data-testid="ind-site-row"]')];
      return rows.length === 1 && rows[0].dataset.site === id;
    }, sur.id);
    assert.equal((await desktop.locator('[data-testid="kpi-declared"] .ind-kpi-value').textContent()).trim(), '1');
    const href = await desktop.getByTestId('ind-csv-by_site').getAttribute('href');
    assert.ok(href.includes('/api/v1/indicators/by_site.csv?') && href.includes(`site=${sur.id}`), href);
    const csv = await desktop.evaluate(async (u) => (await fetch(u)).text(), href);
    const lines = csv.trim().split(/\r?\n/);
    assert.equal(lines.length, 2, csv);
    assert.ok(lines[0].startsWith('site,name,city,incidents'), csv);
    assert.ok(lines[1].startsWith(`${sur.id},${sur.name},${sur.city},1,`), csv);
    await desktop.screenshot({ path: path.join(ARTIFACTS, 'desktop-indicators-sites.png'), fullPage: true });
  });

  it('on a phone, the limited manager edits only their site and sees only its figures', async () => {
    const page = await (await browser.newContext(PHONE)).newPage();
    page.setDefaultTimeout(10_000);
    watchErrors(page, errors);
    await signInWithPassword(page, 'directorio/sitios');
    const mine = page.locator(`[data-testid="site-row"][data-id="${norte.id}"]`);
    const theirs = page.locator(`[data-testid="site-row"][data-id="${sur.id}"]`);
    await mine.waitFor();
    await theirs.waitFor();
    assert.equal(await theirs.getByTestId('site-edit').count(), 0);
    assert.equal(await page.getByTestId('site-form').count(), 0);
    await page.getByTestId('sites-readonly').filter({ hasText: norte.name }).waitFor();
    assert.deepEqual(await axeProblems(page), []);
    assert.deepEqual(await smallTargets(page), []);
    await noSidewaysScroll(page);

    // An empty name: the server's message next to the field; then a good one.
    await mine.getByTestId('site-edit').tap();
    await page.getByTestId('se-name').fill('');
    let res = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/api/v1/sites/${norte.id}`));
    await page.getByTestId('site-save').tap();
    const problem = await (await res).json();
    assert.equal((await res).status(), 422, JSON.stringify(problem));
    await page.getByTestId('seerr-name').filter({ hasText: problem.errors.find((e) => e.field === 'name').message }).waitFor();
    assert.equal(await page.getByTestId('se-name').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await axeProblems(page), []);
    assert.deepEqual(await smallTargets(page), []);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-site-edit-error.png'), fullPage: true });
    await page.getByTestId('se-name').fill(`${norte.name} A`);
    res = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/api/v1/sites/${norte.id}`));
    await page.getByTestId('site-save').tap();
    assert.equal((await res).status(), 200);
    await page.getByTestId('site-notice').waitFor();

    // The indicators: their site only, and the page says so.
    await page.goto(`${BASE}/#/indicadores?servicio=${encodeURIComponent(service)}`);
    await page.getByTestId('ind-scope').waitFor();
    const rows = page.locator('[data-testid="ind-site-row"]');
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.dataset.site)), [norte.id]);
    assert.equal((await page.locator('[data-testid="kpi-declared"] .ind-kpi-value').textContent()).trim(), '1');
    assert.deepEqual(await axeProblems(page), []);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-indicators-scoped.png'), fullPage: true });
    await page.context().close();
  });

  it('in English, the sites page and the scope card speak English', async () => {
    const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-GB' });
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    watchErrors(page, errors);
    await page.goto(`${BASE}/?lang=en#/login?token=${encodeURIComponent(TOKEN)}`);
    await page.getByTestId('board-heading').waitFor();
    await page.goto(`${BASE}/?lang=en#/directorio/sitios`);
    assert.equal((await page.getByTestId('dir-tab-sites').textContent()).trim(), 'Sites');
    const row = page.locator(`[data-testid="site-row"][data-id="${sur.id}"]`);
    await row.waitFor();
    assert.equal((await row.getByTestId('site-state').textContent()).trim(), 'In use');
    await page.getByTestId('site-form').getByText('New site').waitFor();
    await page.goto(`${BASE}/?lang=en#/directorio/accesos`);
    const user = page.locator(`[data-testid="user-row"][data-email="${gerente.email}"]`);
    await user.waitFor();
    assert.ok((await user.getByTestId('user-scope').textContent()).startsWith('Limited to: '));
    assert.deepEqual(await axeProblems(page), []);
    await ctx.close();
    assert.deepEqual(errors, []);
  });
});
