// Browser test of the visual ladder editor, at both sizes: steps → recipients →
// pages (after how long, on which channels) → wait → when it is owned, labels in
// Spanish, checked as the person types, with the JSON as an advanced view; saved, the
// server stores what the form shows.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test ladders.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, DESKTOP } from './a11y.mjs';

describe('web app: the visual ladder editor', { skip, timeout: 120_000 }, () => {
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
    it(`${size}: a new ladder is built step by step, checked as it is typed, and saved as shown`, async () => {
      const ctx = await browser.newContext(opts);
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      watchErrors(page, errors);
      const press = (loc) => (size === 'phone' ? loc.tap() : loc.click());
      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
      await page.evaluate(() => { location.hash = '#/escaleras'; });
      await press(page.getByTestId('ladder-new'));
      const ed = page.getByTestId('ladder-visual');
      await ed.waitFor();
      const id = `vis-${size}-${stamp}`.toLowerCase();

      // Checked while typing: a bad identifier, then a good one.
      await ed.getByTestId('lad-id').fill('No Vale');
      await page.getByTestId('lerr-id').waitFor();
      assert.match(await page.getByTestId('lerr-id').textContent(), /minúsculas/);
      await ed.getByTestId('lad-id').fill(id);
      await page.getByTestId('lerr-id').waitFor({ state: 'hidden' });
      await ed.getByTestId('lad-name-es').fill(`Escalera visual ${size}`);

      // Labels in Spanish: the channels and roles are not the API's words.
      const step1 = ed.getByTestId('lad-step').first();
      assert.doesNotMatch(await step1.textContent(), /\b(webpush|voice|lead)\b/);
      // No channel: said at once; one channel again: the message goes.
      const checked = step1.getByTestId('lad-reminder-channels').locator('input:checked');
      while (await checked.count()) await press(checked.first());
      const chErr = page.getByTestId('lerr-steps[0].reminders[0].channels');
      await chErr.waitFor();
      assert.equal(await chErr.textContent(), 'Elige al menos un canal.');
      await press(step1.getByTestId('lad-reminder-channels').locator('label', { hasText: 'SMS' }));
      await chErr.waitFor({ state: 'hidden' });
      await step1.getByTestId('lad-wait').fill('10');

      // A second step: the managers of those paged, by call, owned when two confirm.
      await press(ed.getByTestId('lad-step-add'));
      const step2 = ed.getByTestId('lad-step').nth(1);
      await step2.getByTestId('lad-target-kind').selectOption('managers');
      await step2.getByTestId('lad-reminder-channels').locator('label', { hasText: 'Llamada' }).click();
      await step2.getByTestId('lad-owned').selectOption('n');
      await step2.getByTestId('lad-owned-n').fill('2');
      await step2.getByTestId('lad-wait').fill('');

      // The JSON view says the same.
      await press(page.getByTestId('ladder-json-toggle'));
      const doc = JSON.parse(await page.getByTestId('ladder-json').inputValue());
      assert.equal(doc.id, id);
      assert.equal(doc.steps.length, 2);
      assert.deepEqual(doc.steps[0].reminders[0].channels, ['sms']);
      assert.equal(doc.steps[0].wait, '10m');
      assert.deepEqual(doc.steps[1].targets, [{ managers_of_paged: true }]);
      assert.equal(doc.steps[1].owned, '2');
      await page.screenshot({ path: path.join(ARTIFACTS, `ladder-editor-${size}.png`), fullPage: true });
      await noSidewaysScroll(page);

      const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/ladders'));
      await press(page.getByTestId('ladder-save'));
      const res = await answer;
      assert.equal(res.status(), 201, await res.text());
      await page.locator(`[data-testid="ladder"][data-id="${id}"]`).waitFor();
      const stored = await apiCall('GET', `ladders/${id}`);
      assert.equal(stored.steps.length, 2);
      assert.deepEqual(stored.steps[0].reminders[0].channels, ['sms']);
      assert.deepEqual(stored.steps[1].reminders[0].channels.includes('voice'), true);
      await apiCall('DELETE', `ladders/${id}`, { want: 204 });
      await ctx.close();
    });
  }

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
