// Browser test of escalation: the incident page shows the ladder (step, who is pending,
// when the next step comes) and escalates by hand with a required reason; the ladders
// page shows each ladder as sentences and refuses a bad one with the server's problems,
// in Spanish, changing nothing.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';

describe('web app: escalation on the incident page and the ladders page', { skip, timeout: 120_000 }, () => {
  let browser;
  let page;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const team = `esc-${stamp}`;
  const lead = { name: `Lía Escalera ${stamp}`, email: `lia@esc-${stamp}.example.com` };
  const helper = { name: `Hugo Apoyo ${stamp}`, email: `hugo@esc-${stamp}.example.com` };
  let inc;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'people/import', {
      csv: ['name,email,phone,language,teams,manager_email',
        `${lead.name},${lead.email},,es,${team}:lead,`,
        `${helper.name},${helper.email},,es,${team}-apoyo,`].join('\n'),
    });
    // A ladder of our own, chosen at declaration: our team's lead, then (after 10 minutes) the helper.
    await apiCall('PUT', `ladders/${team}`, {
      json: {
        // Named at declaration; its own service keeps it from other tests' incidents.
        id: team, name: { es: `Escalera ${stamp}`, en: `Ladder ${stamp}` }, services: [`svc-${stamp}`],
        steps: [
          { targets: [{ team, roles: ['lead'] }], reminders: [{ after: '0s', channels: ['webpush'] }], wait: '10m', owned: 'any' },
          { targets: [{ team: `${team}-apoyo` }], reminders: [{ after: '0s', channels: ['webpush'] }], wait: '10m', owned: 'any' },
        ],
      },
    });
    inc = await apiCall('POST', 'incidents', {
      json: { title: `Caída del ERP ${stamp}`, impact: 'critical', urgency: 'critical', teams: [team], ladder: team },
      want: 201,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'es-MX' });
    ctx.setDefaultTimeout(10_000);
    page = await ctx.newPage();
    watchErrors(page, errors);
    await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await page.getByTestId('nav-board').waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  it('the live board shows the ladder\'s step and when the next one comes', async () => {
    await page.goto(`${BASE}/#/tablero`);
    const line = page.locator(`[data-testid="board-item"][data-id="${inc.id}"] [data-testid="item-escalation"]`);
    await line.waitFor();
    assert.match(await line.textContent(), /Paso 1 de 2 · siguiente paso .*\(en \d+:\d\d\)/);
  });

  it('the incident page shows the step, who is pending and when the next step comes', async () => {
    await page.goto(`${BASE}/#/incidente/${inc.folio}`);
    const card = page.getByTestId('escalation');
    await card.waitFor();
    assert.equal(await page.getByTestId('escalation-ladder').textContent(), `Escalera ${stamp}`);
    assert.equal(await page.getByTestId('escalation-step').getAttribute('data-step'), '1');
    assert.match(await page.getByTestId('escalation-step').textContent(), /Paso 1 de 2/);
    assert.match(await page.getByTestId('escalation-next').textContent(), /\(en \d+:\d\d\)/);
    assert.match(await page.getByTestId('escalation-pending').textContent(), new RegExp(lead.name));
  });

  it('escalating needs a reason; with one, the helper is paged at once and it shows live', async () => {
    await page.getByTestId('escalate-to').fill(`${team}-apoyo`);
    await page.getByTestId('escalate-submit').click();
    const err = page.getByTestId('escalate-error-reason');
    await err.waitFor();
    assert.match(await err.textContent(), /es obligatorio/);
    await page.getByTestId('escalate-reason').fill('El líder no contesta y hay que activar el plan B');
    await page.getByTestId('escalate-submit').click();
    await page.locator('[data-testid="escalation-paged"] li[data-reason="manual"]').waitFor();
    assert.match(await page.getByTestId('escalation-pending').textContent(), new RegExp(helper.name));
    await page.locator('[data-testid="timeline-item"][data-type="incident.escalated"]', { hasText: 'plan B' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-escalation.png'), fullPage: true });
  });

  it('the ladders page refuses a bad ladder with the problems in Spanish and keeps the old one', async () => {
    await page.getByTestId('nav-ladders').click();
    const mine = page.locator(`[data-testid="ladder"][data-id="${team}"]`);
    await mine.waitFor();
    assert.equal(await mine.getByTestId('ladder-step').count(), 2);
    await mine.getByTestId('ladder-edit').click();
    // The JSON is the advanced view of the visual editor.
    await page.getByTestId('ladder-json-toggle').click();
    const json = page.getByTestId('ladder-json');
    const doc = JSON.parse(await json.inputValue());
    doc.steps[0].wait = '-5m';
    doc.steps[1].targets = [{ team: 'no-existe' }];
    await json.fill(JSON.stringify(doc));
    await page.getByTestId('ladder-save').click();
    await page.getByTestId('ladder-problem').waitFor();
    const problems = await page.getByTestId('ladder-problem-item').allTextContents();
    assert.ok(problems.some((p) => p.includes('steps[0].wait') && p.includes('debe estar entre 0s')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('"no-existe" no es un equipo')), problems.join('\n'));
    const stored = await apiCall('GET', `ladders/${team}`);
    assert.equal(stored.steps[0].wait, '10m0s');
    await page.screenshot({ path: path.join(ARTIFACTS, 'desktop-ladders.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });
});
