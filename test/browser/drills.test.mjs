// Browser test of the drills page (#/simulacros): a bad plan is refused in Spanish with
// its fields named, a plan starts from its card, and the run's board follows an
// acknowledgement and a cancellation live, over the stream, without reloading.
//
// It shares its server with the other test files: its people and team carry a unique
// stamp, so its drill overlaps nobody else's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip } from './harness.mjs';

async function call(method, p, { json, csv, want = 200, token = TOKEN, cookie } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (cookie) headers.Cookie = cookie;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (csv !== undefined) {
    headers['Content-Type'] = 'text/csv';
    body = csv;
  }
  const res = await fetch(`${BASE}/api/v1/${p}`, { method, headers, body });
  const text = await res.text();
  assert.equal(res.status, want, `${method} ${p}: ${res.status} ${text}`);
  return { data: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, res };
}

describe('web app: drills, planned, started and followed live', { skip, timeout: 120_000 }, () => {
  let browser;
  let page;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const team = `simulacro-${stamp}`;
  const domain = `drl-${stamp}.example.com`;
  const lucia = { name: `Lucía Simulacro ${stamp}`, email: `lucia@${domain}` };
  const mario = { name: `Mario Simulacro ${stamp}`, email: `mario@${domain}` };
  const password = `simulacro de sismo ${stamp}`;
  let plan;
  let run;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const { data: report } = await call('POST', 'people/import', {
      csv: ['name,email,phone,language,teams,manager_email',
        `${lucia.name},${lucia.email},+52 55 4444 2222,es,${team}:lead,`,
        `${mario.name},${mario.email},+52 55 4444 3333,es,${team},`].join('\n'),
    });
    assert.equal(report.created, 2, JSON.stringify(report));
    lucia.id = (await call('GET', `people/${lucia.email}`)).data.id;
    await call('POST', 'users', { json: { email: lucia.email, name: lucia.name, role: 'responder', password }, want: 201 });
    plan = (await call('POST', 'drills', {
      json: {
        name: `Sismo ${stamp}`, scenario: { title: `Sismo 7.1 en CDMX ${stamp}` }, teams: [team], window: '30m',
        criteria: [{ scope: 'all', percent: 100, within: '15m' }, { scope: `team:${team}`, percent: 50, within: '10m' }],
      },
      want: 201,
    })).data;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'es-MX' });
    ctx.setDefaultTimeout(10_000);
    page = await ctx.newPage();
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await page.getByTestId('board-heading').waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  it('a plan that can never be met is refused in Spanish, field by field, and not saved', async () => {
    await page.getByTestId('nav-drills').click();
    await page.getByTestId('drills-heading').waitFor();
    assert.equal(await page.getByTestId('drills-heading').textContent(), 'Simulacros');
    await page.locator(`[data-testid="drill-plan"][data-id="${plan.id}"]`).waitFor();
    await page.getByTestId('drill-name').fill(`Imposible ${stamp}`);
    await page.getByTestId('drill-title').fill('Incendio');
    await page.getByTestId('drill-percent').fill('120');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/drills'));
    await page.getByTestId('drill-save').click();
    assert.equal((await answer).status(), 422);
    await page.getByTestId('drill-form-error').filter({ hasText: 'El plan de simulacro tiene errores.' }).waitFor();
    assert.match(await page.getByTestId('drill-error-teams').textContent(), /la audiencia está vacía/);
    assert.match(await page.getByTestId('drill-error-criteria[0].percent').textContent(), /nunca supera el 100%/);
    const { data: plans } = await call('GET', 'drills');
    assert.ok(!plans.some((p) => p.name === `Imposible ${stamp}`), 'the refused plan was saved');

    // Corrected, it is saved and listed.
    await page.getByTestId(`drill-team-${team}`).check();
    await page.getByTestId('drill-channel-sms').check();
    await page.getByTestId('drill-percent').fill('100');
    const saved = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/drills'));
    await page.getByTestId('drill-save').click();
    const res = await saved;
    assert.equal(res.status(), 201, await res.text());
    const created = await res.json();
    assert.deepEqual([created.teams, created.channels, created.criteria[0].percent], [[team], ['sms'], 100]);
    await page.locator(`[data-testid="drill-plan"][data-id="${created.id}"]`).waitFor();
    await call('DELETE', `drills/${created.id}`, { want: 204 });
  });

  it('starting a plan opens its live board', async () => {
    const card = page.locator(`[data-testid="drill-plan"][data-id="${plan.id}"]`);
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/v1/drills/${plan.id}/runs`));
    await card.getByTestId('drill-start').click();
    const res = await answer;
    assert.equal(res.status(), 201);
    run = await res.json();
    await page.locator(`[data-testid="drill-board"][data-state="ready"][data-run-id="${run.id}"]`).waitFor();
    assert.equal(await page.getByTestId('drill-title').textContent(), `Sismo 7.1 en CDMX ${stamp}`);
    assert.equal(await page.getByTestId('drill-status').textContent(), 'En curso');
    assert.equal(await page.getByTestId('drill-person').count(), 2);
    assert.equal(await page.locator('[data-testid="drill-criterion"][data-result="pending"]').count(), 2);
    assert.equal(await page.getByTestId('drill-csv').getAttribute('href'), `api/v1/drill-runs/${run.id}/report.csv`);
    // Neither has proved a channel: the report asks to verify both.
    assert.equal(await page.locator('[data-testid="drill-hygiene"] li[data-action="verify_channel"]').count(), 2);
    const { data: inc } = await call('GET', `incidents/${run.incident_id}`);
    assert.equal(inc.drill, true);
    await page.getByTestId('live').waitFor({ state: 'visible' });
    await page.evaluate(() => { window.__marker = 'no-reload'; });
  });

  it('an acknowledgement shows on the board live', async () => {
    // Lucía signs in elsewhere and acknowledges.
    const signin = await fetch(`${BASE}/api/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: lucia.email, password }),
    });
    assert.equal(signin.status, 200, await signin.text());
    const cookie = signin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    await call('POST', `incidents/${run.incident_id}/ack`, { token: '', cookie, json: {} });
    const row = page.locator(`[data-testid="drill-person"][data-person-id="${lucia.id}"]`);
    await page.locator(`[data-testid="drill-person"][data-person-id="${lucia.id}"][data-state="acknowledged"]`).waitFor();
    assert.match(await row.getByTestId('drill-person-state').textContent(), /^Confirmó · /);
    // Half the team in time: the team criterion is met; everyone's is still running.
    await page.locator('[data-testid="drill-criterion"][data-result="met"]').waitFor();
    assert.equal(await page.evaluate(() => window.__marker), 'no-reload');
    await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-drill-board.png'), fullPage: true });
  });

  it('cancelling stops the drill and the board says so', async () => {
    page.once('dialog', (d) => d.accept());
    await page.getByTestId('drill-cancel').click();
    await page.locator('[data-testid="drill-board"][data-status="cancelled"]').waitFor();
    assert.equal(await page.getByTestId('drill-status').textContent(), 'Cancelado');
    assert.equal(await page.getByTestId('drill-cancel').count(), 0);
    const { data: csv, res } = await call('GET', `drill-runs/${run.id}/report.csv`);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.match(csv, /^section,key,targeted,reached,acknowledged/);
    assert.match(csv, /\noverall,all,2,1,1,0\.5000,0\.5000,/);
    assert.deepEqual(errors, []);
  });
});
