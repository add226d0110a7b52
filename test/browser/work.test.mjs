// Browser test of the incident worked after its declaration, on a phone: a scenario
// template fills the declare form and similar past incidents show while typing; on the
// incident page the lifecycle buttons move it, a reason is asked for where one is
// required, a stakeholder update shows when the next one is due (and when it is late, on
// the page and on the board), the similar incidents show how they were solved, and the
// requester confirms the solution through the conformity link, which closes it.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall as call, watchErrors, noSidewaysScroll } from './harness.mjs';

// apiCall keeps this file's short form: the JSON body and the expected status.
const apiCall = (method, p, json, want = 200) => call(method, p, { json, want });

describe('web app: working an incident on a phone', { skip, timeout: 120_000 }, () => {
  let browser;
  let phone;
  let mobile;
  const errors = [];
  const stamp = `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let past;
  let inc;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX',
    });
    phone.setDefaultTimeout(10_000);
    mobile = await phone.newPage();
    watchErrors(mobile, errors);
    // A past flood, solved: the one the search must find.
    past = await apiCall('POST', 'incidents', {
      title: `Inundación en el sótano ${stamp}`, description: 'Agua en el cuarto eléctrico', impact: 'high', urgency: 'high', drill: true,
    }, 201);
    await apiCall('POST', `incidents/${past.id}/transitions`, { to: 'investigating' });
    await apiCall('POST', `incidents/${past.id}/transitions`, { to: 'resolved', note: `Se bombeó el agua ${stamp}` });
  });

  after(async () => {
    if (mobile) await mobile.screenshot({ path: path.join(ARTIFACTS, 'work-phone.png'), fullPage: true }).catch(() => {});
    await browser?.close();
  });

  it('a template fills the declare form and similar incidents show while typing', async () => {
    await mobile.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
    await mobile.getByTestId('board-heading').waitFor();
    await mobile.goto(`${BASE}/#/declarar`);
    await mobile.getByTestId('declare-form').waitFor();
    await mobile.getByTestId('tile-flood').tap();
    await mobile.getByTestId('template-applied').waitFor();
    assert.equal(await mobile.getByTestId('tile-flood').getAttribute('aria-pressed'), 'true');
    const title = mobile.getByTestId('field-title');
    assert.equal(await title.inputValue(), 'Inundación');
    // The place completes the scenario's title.
    await mobile.getByTestId('field-location').fill('sótano B2');
    assert.equal(await title.inputValue(), 'Inundación en sótano B2');
    assert.equal(await mobile.getByTestId('chosen-title').textContent(), 'Inundación en sótano B2');
    assert.ok(await mobile.locator('[data-testid="impact-high"] input').isChecked(), 'the template set the impact');
    // The scenario's message for the audience, in both languages, and its safety poll.
    assert.match(await mobile.getByTestId('field-message_es').inputValue(), /^Hay una inundación/);
    assert.match(await mobile.getByTestId('field-message_en').inputValue(), /^There is a flood/);
    assert.ok(await mobile.locator('[data-testid="safety-poll"] input').isChecked(), 'a flood asks whether people are safe');
    await mobile.getByTestId('more-summary').tap();
    await title.fill(`Inundaciones en sótanos ${stamp}`);
    const hit = mobile.locator(`[data-testid="declare-similar-item"][data-folio="${past.folio}"]`);
    await hit.waitFor();
    assert.match(await hit.textContent(), new RegExp(`Se bombeó el agua ${stamp}`));
    await noSidewaysScroll(mobile);
  });

  it('the lifecycle buttons move the incident and ask for a reason where one is needed', async () => {
    inc = await apiCall('POST', 'incidents', {
      title: `Sótano inundado ${stamp}`, description: 'Agua en el cuarto eléctrico otra vez', impact: 'high', urgency: 'high', drill: true,
    }, 201);
    await mobile.goto(`${BASE}/#/incidente/${inc.folio}`);
    await mobile.locator('[data-testid="incident"][data-state="ready"]').waitFor();
    await mobile.getByTestId('move-investigating').tap();
    await mobile.locator('[data-testid="incident-status"]', { hasText: 'En investigación' }).waitFor();
    await mobile.getByTestId('move-resolved').waitFor();
    await mobile.getByTestId('move-resolved').tap();
    await mobile.getByTestId('work-error-move').waitFor();
    const got = await apiCall('GET', `incidents/${inc.id}`);
    assert.equal(got.status, 'investigating', 'a refused move changed nothing');
    // The similar incidents, with how they were solved.
    const sim = mobile.locator(`[data-testid="similar-item"][data-folio="${past.folio}"]`);
    await sim.waitFor();
    assert.match(await sim.textContent(), /Cómo se resolvió/);
  });

  it('a stakeholder update shows when the next is due, then that it is late, on the page and the board', async () => {
    await mobile.getByTestId('update-known').fill('El agua no llegó a los racks');
    await mobile.getByTestId('update-doing').fill('Bombeando');
    await mobile.getByTestId('update-post').tap();
    const line = mobile.getByTestId('incident-next-update');
    await line.waitFor();
    assert.match(await line.textContent(), /Próxima actualización/);
    // A promise two seconds away is late two seconds later.
    await apiCall('POST', `incidents/${inc.id}/updates`, { known: 'Sigue igual', next_update_at: new Date(Date.now() + 2000).toISOString() }, 201);
    await mobile.locator('[data-testid="incident-next-update"][data-late="true"]').waitFor();
    assert.match(await line.textContent(), /atrasada/);
    await mobile.goto(`${BASE}/#/tablero`);
    await mobile.locator(`[data-testid="board-item"][data-folio="${inc.folio}"] [data-testid="item-next-update"][data-late="true"]`).waitFor();
  });

  it('resolving sends the requester a conformity link; accepting it closes the incident', async () => {
    await mobile.goto(`${BASE}/#/incidente/${inc.folio}`);
    await mobile.locator('[data-testid="incident"][data-state="ready"]').waitFor();
    await mobile.getByTestId('move-note').fill('Se selló la rampa del sótano');
    await mobile.getByTestId('move-resolved').tap();
    await mobile.locator('[data-testid="incident-status"]', { hasText: 'Resuelta' }).waitFor();
    const link = mobile.getByTestId('conformity-link');
    await link.waitFor();
    await noSidewaysScroll(mobile);
    await mobile.screenshot({ path: path.join(ARTIFACTS, 'work-incident-phone.png'), fullPage: true });
    await link.tap();
    await mobile.locator('button[value="accept"]').waitFor();
    assert.match(await mobile.locator('.resolution').textContent(), /Se selló la rampa/);
    await noSidewaysScroll(mobile);
    await mobile.locator('button[value="accept"]').tap();
    await mobile.locator('.ack-done').waitFor();
    const got = await apiCall('GET', `incidents/${inc.id}`);
    assert.equal(got.status, 'closed');
    assert.equal(got.conformity, 'accepted');
  });

  it('has no script or CSP errors', () => {
    assert.deepEqual(errors, []);
  });
});
