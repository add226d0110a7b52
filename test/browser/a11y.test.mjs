// Accessibility of every page of the web app, at 390×844 (touch, device scale 2) and at
// 1366×900: axe-core's WCAG 2.1 A/AA rules find nothing serious or critical, and every
// control is at least 44 px tall (a11y.mjs). Screenshots a11y-<size>-<page>.png go to
// $ARTIFACTS.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test a11y.test.mjs
import { describe, it, before, after } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';
import { PHONE, DESKTOP, pageProblems } from './a11y.mjs';
import assert from 'node:assert/strict';

// PAGES: the hash of each page and what shows once it is drawn.
const PAGES = [
  ['board', '#/tablero', 'board-page'],
  ['declare', '#/declarar', 'declare-form'],
  ['incident', null, 'incident-title'],
  ['directory', '#/directorio', 'person-new'],
  ['person-new', '#/directorio/personas/nueva', 'person-form'],
  ['teams', '#/directorio/equipos', 'dir-tab-teams'],
  ['import', '#/directorio/importar', 'dir-tab-import'],
  ['readiness', '#/directorio/preparacion', 'dir-tab-readiness'],
  ['sites', '#/directorio/sitios', 'site-form'],
  ['access', '#/directorio/accesos', 'dir-tab-access'],
  ['profile', '#/perfil', 'profile'],
  ['ladders', '#/escaleras', 'ladders'],
  ['drills', '#/simulacros', 'drills'],
  ['indicators', '#/indicadores', 'indicators-page'],
];

describe('web app: every page is accessible at both sizes', { skip, timeout: 240_000 }, () => {
  let browser;
  const errors = [];
  let inc;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    inc = await apiCall('POST', 'incidents', {
      json: { title: `Revisión de accesibilidad ${Date.now().toString(36)}`, impact: 'high', urgency: 'medium', location: 'Sitio norte' },
      want: 201,
    });
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
    it(`${size}: the sign-in and every signed-in page`, async () => {
      const ctx = await browser.newContext(opts);
      ctx.setDefaultTimeout(15_000);
      const page = await ctx.newPage();
      watchErrors(page, errors);
      await page.goto(`${BASE}/#/tablero`);
      await page.getByTestId('signin').waitFor();
      const problems = await pageProblems(page, `${size}-signin`);

      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
      for (const [name, hash, ready] of PAGES) {
        await page.evaluate((x) => { location.hash = x; }, hash || `#/incidente/${inc.folio}`);
        await page.getByTestId(ready).first().waitFor();
        // Let fetched parts settle (the pages draw again when their data arrives).
        await page.waitForLoadState('networkidle').catch(() => {});
        problems.push(...await pageProblems(page, `${size}-${name}`));
      }
      // The declare form with a scenario chosen and everything unfolded, and the phone's menu open.
      await page.evaluate(() => { location.hash = '#/declarar'; });
      await page.getByTestId('tile-earthquake').click();
      await page.getByTestId('more-summary').click();
      await page.waitForLoadState('networkidle').catch(() => {});
      problems.push(...await pageProblems(page, `${size}-declare-tile`));
      if (size === 'phone') {
        await page.getByTestId('nav-more').click();
        problems.push(...await pageProblems(page, `${size}-menu`));
      }
      await ctx.close();
      assert.deepEqual(problems, [], 'accessibility problems');
      assert.deepEqual(errors, []);
    });
  }
});
