// Browser test of the canary card on the indicators page (#/indicadores), in Debian's
// headless Chromium, at desktop (1440×900) and phone (390×844) sizes.
//
// The server under test has a canary whose person is not in the directory (see
// cmd/optimum/browser_test.go and run.sh), so a canary asked for now fails at once, for a
// real reason, and pages the continuity team. The card shows that last run as
// GET /api/v1/canary answers it: "Falló" with the reason.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';

describe('canary card', { skip }, () => {
  let browser;
  const errors = [];
  let run;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    const before = await apiCall('GET', 'canary');
    assert.equal(before.enabled, true, 'the server under test has no canary configured');
    await apiCall('POST', 'canary/run', { want: 202 });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const v = await apiCall('GET', 'canary?limit=1');
      run = v.runs[0];
      if (run && run.status === 'failed' && (!before.runs[0] || run.id !== before.runs[0].id)) break;
      assert.ok(Date.now() < deadline, `the canary did not fail in time: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
  });

  after(async () => {
    await browser?.close();
  });

  for (const [name, options] of [
    ['desktop', { viewport: { width: 1440, height: 900 }, locale: 'es-MX' }],
    ['phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX' }],
  ]) {
    it(`the ${name} shows the last canary failed, with its reason`, async () => {
      const ctx = await browser.newContext(options);
      ctx.setDefaultTimeout(10_000);
      const page = await ctx.newPage();
      watchErrors(page, errors);
      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
      await page.goto(`${BASE}/#/indicadores`);
      const card = page.getByTestId('ind-canary');
      await card.waitFor();
      assert.equal((await card.locator('h2').textContent()).trim(), 'Alerta de prueba (canario)');
      assert.equal((await page.getByTestId('ind-canary-status').textContent()).trim(), 'Falló');
      const reason = (await page.getByTestId('ind-canary-reason').textContent()).trim();
      assert.ok(reason.length > 0 && run.reason.startsWith(reason.replace(/…$/, '')), `${reason} / ${run.reason}`);
      await card.scrollIntoViewIfNeeded();
      await noSidewaysScroll(page);
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-canary.png`), fullPage: true });
      assert.deepEqual(errors, []);
      await ctx.close();
    });
  }
});
