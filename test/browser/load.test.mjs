// Browser test of what the web app costs a congested network: the bytes a phone
// downloads to open the board the first time (cold: nothing cached) and the next time
// (warm: the versioned files are kept for good, the page is revalidated with its ETag).
// The bytes are what Chromium received (headers included), read from the DevTools
// protocol; the figures are printed and written to $ARTIFACTS/load-bytes.json.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test load.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip } from './harness.mjs';
import { PHONE } from './a11y.mjs';

const COLD_MAX = 150 * 1024;
const WARM_MAX = 10 * 1024;

// measure opens url in a new page of ctx and sums the bytes received, for the web app's
// own files and for everything (the API's answers too).
async function measure(ctx, url, ready) {
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  const got = { app: 0, all: 0, files: {} };
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    const u = urls.get(e.requestId) || '';
    got.all += e.encodedDataLength;
    if (!new URL(u, BASE).pathname.startsWith('/api/')) {
      got.app += e.encodedDataLength;
      const name = new URL(u, BASE).pathname.replace(/^\/v\/[0-9a-f]+\//, '/');
      got.files[name] = (got.files[name] || 0) + e.encodedDataLength;
    }
  });
  await page.goto(url);
  await page.getByTestId(ready).waitFor();
  await page.waitForLoadState('networkidle');
  await page.close();
  return got;
}

describe('web app: bytes of a cold and a warm load', { skip, timeout: 60_000 }, () => {
  let browser;

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

  it(`a phone opens the board with at most ${COLD_MAX / 1024} KB cold and ${WARM_MAX / 1024} KB warm of the app's files`, async () => {
    const ctx = await browser.newContext(PHONE);
    ctx.setDefaultTimeout(15_000);
    const cold = await measure(ctx, `${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`, 'board-heading');
    const warm = await measure(ctx, `${BASE}/#/tablero`, 'board-heading');
    await ctx.close();
    const kb = (n) => Math.round(n / 102.4) / 10;
    const report = {
      cold_app_kb: kb(cold.app), warm_app_kb: kb(warm.app), cold_all_kb: kb(cold.all), warm_all_kb: kb(warm.all),
      cold_files: cold.files, warm_files: warm.files,
    };
    console.log(`load bytes: ${JSON.stringify(report)}`);
    await writeFile(path.join(ARTIFACTS, 'load-bytes.json'), JSON.stringify(report, null, 2));
    assert.ok(cold.app <= COLD_MAX, `cold load: ${kb(cold.app)} KB of the app's files`);
    assert.ok(warm.app <= WARM_MAX, `warm load: ${kb(warm.app)} KB of the app's files`);
    // Every file of the app came the first time, and (but the page itself) not again.
    assert.ok(Object.keys(cold.files).some((f) => f.endsWith('/app.js')), JSON.stringify(cold.files));
    const again = Object.entries(warm.files).filter(([f, n]) => n > 0 && f.endsWith('.js') && f !== '/sw.js');
    assert.deepEqual(again, [], 'a versioned file was downloaded again');
  });
});
