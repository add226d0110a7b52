// Browser test of a live board that demands attention, at both sizes: a new P1 declared
// elsewhere plays the alert sound (turned on once with the board's button), asks the
// device to vibrate and counts in the tab's title; a P3 and a drill do not; drills sit in
// their own section below the real crises.
//
// What the page did is read from window.__optimumAttention (one entry per alert: sound
// played, vibration accepted), since a headless browser has no speaker.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test attention.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';
import { PHONE, DESKTOP } from './a11y.mjs';

const titleCount = (title) => {
  const m = /^\((\d+)\) OPTIMUM BCP$/.exec(title);
  return m ? Number(m[1]) : title === 'OPTIMUM BCP' ? 0 : NaN;
};

describe('web app: a live board that demands attention', { skip, timeout: 120_000 }, () => {
  let browser;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
  });

  after(async () => {
    await browser?.close();
  });

  for (const [size, opts] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    it(`${size}: a new P1 sounds, vibrates and counts in the title; a P3 and a drill do not`, async () => {
      const ctx = await browser.newContext(opts);
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      watchErrors(page, errors);
      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
      await page.getByTestId('live').waitFor({ state: 'visible' });
      // The board's list has come (the count in the title is read from it): on a busy
      // machine it can come after the stream is live.
      await page.locator('[data-testid="board"][aria-busy="false"]').waitFor({ state: 'attached' });

      // The sound is off until the person turns it on; the choice is remembered.
      const toggle = page.getByTestId('sound-toggle');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      assert.equal(await page.evaluate(() => localStorage.getItem('optimum.sound')), 'on');
      const before = titleCount(await page.title());
      assert.ok(Number.isFinite(before), await page.title());

      const p1 = await apiCall('POST', 'incidents', { json: { title: `Incendio en bodega ${size} ${stamp}`, impact: 'critical', urgency: 'critical' }, want: 201 });
      await page.locator(`[data-testid="board"] [data-testid="board-item"][data-folio="${p1.folio}"]`).waitFor();
      const alerted = await page.waitForFunction((id) => (window.__optimumAttention || []).find((x) => x.id === id), p1.id);
      const entry = await alerted.jsonValue();
      assert.equal(entry.priority, 'P1');
      assert.equal(entry.sound, true, 'the sound did not play');
      assert.equal(typeof entry.vibrate, 'boolean');
      await page.waitForFunction((n) => document.title === `(${n}) OPTIMUM BCP`, before + 1);

      const p3 = await apiCall('POST', 'incidents', { json: { title: `Impresora sin tóner ${size} ${stamp}`, impact: 'low', urgency: 'medium' }, want: 201 });
      const drill = await apiCall('POST', 'incidents', { json: { title: `Simulacro de sismo ${size} ${stamp}`, impact: 'critical', urgency: 'critical', drill: true }, want: 201 });
      await page.locator(`[data-testid="board"] [data-testid="board-item"][data-folio="${p3.folio}"]`).waitFor();
      // The drill is in its own section, not among the crises.
      const drillItem = page.locator(`[data-testid="drill-section"] [data-testid="board-item"][data-folio="${drill.folio}"]`);
      await drillItem.waitFor();
      assert.equal(await page.locator(`[data-testid="board"] [data-testid="board-item"][data-folio="${drill.folio}"]`).count(), 0);
      assert.match(await page.locator('#board-drills-title').textContent(), /SIMULACRO\s+Simulacros en curso/);
      const ids = await page.evaluate(() => (window.__optimumAttention || []).map((x) => x.id));
      assert.ok(!ids.includes(p3.id), 'a P3 demanded attention');
      assert.ok(!ids.includes(drill.id), 'a drill demanded attention');
      assert.equal(titleCount(await page.title()), before + 1);

      // Acknowledging the P1 takes it out of the count.
      await page.locator(`[data-testid="board-item"][data-folio="${p1.folio}"] [data-testid="ack-button"]`).click();
      await page.waitForFunction((n) => document.title === (n ? `(${n}) OPTIMUM BCP` : 'OPTIMUM BCP'), before);
      await drillItem.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, `attention-${size}.png`), fullPage: true });
      await ctx.close();
    });
  }

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
