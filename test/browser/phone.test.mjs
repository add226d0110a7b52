// Browser test of the web app as a phone is used under stress, and at desktop size:
// declaring in three taps from the board with a scenario tile (five without one), the
// header no taller than 96 px with every page reachable through "Más", and the drill plan
// form with its schedule picker.
//
// Taps are counted by tap(): every press of the person goes through it; typing is not a tap.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test phone.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, DESKTOP } from './a11y.mjs';

const SIZES = [['phone', PHONE], ['desktop', DESKTOP]];

describe('web app: a phone under stress, and a desktop', { skip, timeout: 180_000 }, () => {
  let browser;
  const errors = [];
  const pages = {};
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    for (const [size, opts] of SIZES) {
      const ctx = await browser.newContext(opts);
      ctx.setDefaultTimeout(10_000);
      const page = await ctx.newPage();
      watchErrors(page, errors);
      await page.goto(`${BASE}/#/login?token=${encodeURIComponent(TOKEN)}`);
      await page.getByTestId('board-heading').waitFor();
      pages[size] = page;
    }
  });

  after(async () => {
    await browser?.close();
  });

  // counter returns a tap function that presses like a finger (or a mouse on a desktop)
  // and counts the presses.
  function counter(page, size) {
    const c = { n: 0 };
    c.tap = async (testid) => {
      c.n += 1;
      const el = page.getByTestId(testid).first();
      if (size === 'phone') await el.tap();
      else await el.click();
    };
    return c;
  }

  for (const [size] of SIZES) {
    it(`${size}: from the board to the 201 in three taps with a scenario tile`, async () => {
      const page = pages[size];
      await page.evaluate(() => { location.hash = '#/tablero'; });
      await page.getByTestId('board-page').waitFor();
      const c = counter(page, size);
      await c.tap('nav-declare');
      await c.tap('tile-fire');
      const place = `Torre Norte piso ${size} ${stamp}`;
      await page.getByTestId('field-location').fill(place);
      // The one line before sending: how many people, by which channel.
      const line = page.locator('[data-testid="reach-line"][data-state="ready"]');
      await line.waitFor();
      assert.match(await line.textContent(), /^(\d+ personas?: .+|Ninguna persona recibirá esta alerta.*)$/);
      // The sticky button is on screen without scrolling.
      const inView = await page.getByTestId('declare-submit').evaluate((b) => {
        const r = b.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      });
      assert.ok(inView, '"Enviar alerta" is not on screen');
      await page.screenshot({ path: path.join(ARTIFACTS, `declare-tile-${size}.png`) });
      const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
      await c.tap('declare-submit');
      const res = await answer;
      assert.equal(res.status(), 201, await res.text());
      assert.ok(c.n <= 3, `${c.n} taps`);
      const body = res.request().postDataJSON();
      assert.equal(body.title, `Incendio en ${place}`);
      assert.equal(body.location, place);
      assert.equal(body.impact, 'critical');
      assert.equal(body.safety_poll, true, 'a fire asks whether people are safe');
      await page.getByTestId('folio').waitFor();
      await page.screenshot({ path: path.join(ARTIFACTS, `declare-done-${size}.png`), fullPage: true });
      await noSidewaysScroll(page);
    });

    it(`${size}: without a tile, in at most five taps`, async () => {
      const page = pages[size];
      await page.evaluate(() => { location.hash = '#/tablero'; });
      await page.getByTestId('board-page').waitFor();
      const c = counter(page, size);
      await c.tap('nav-declare');
      // A finished declaration starts a new one from "Declarar otra crisis"; the tab opens
      // the form as it was left, so start it afresh.
      if (await page.getByTestId('declare-another').count()) await c.tap('declare-another');
      await page.getByTestId('field-title').fill(`Sin sistema de nómina ${stamp}`);
      await c.tap('impact-medium');
      await c.tap('urgency-high');
      const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/incidents'));
      await c.tap('declare-submit');
      assert.equal((await answer).status(), 201);
      assert.ok(c.n <= 5, `${c.n} taps`);
    });
  }

  it('phone: the header is at most 96 px and "Más" reaches every page', async () => {
    const page = pages.phone;
    await page.evaluate(() => { location.hash = '#/tablero'; });
    await page.getByTestId('board-page').waitFor();
    const height = await page.locator('header.topbar').evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(height <= 96, `the header is ${height}px tall`);
    assert.equal(await page.getByTestId('nav-drills').isVisible(), false);
    await page.getByTestId('nav-more').tap();
    assert.equal(await page.getByTestId('nav-more').getAttribute('aria-expanded'), 'true');
    await page.screenshot({ path: path.join(ARTIFACTS, 'phone-menu.png') });
    await page.getByTestId('more-ladders').tap();
    await page.getByTestId('ladders').waitFor();
    assert.equal(await page.getByTestId('menu-panel').isVisible(), false, 'the menu closes after a choice');
    await page.getByTestId('nav-more').tap();
    await page.getByTestId('more-drills').tap();
    await page.getByTestId('drills-heading').waitFor();
    await page.getByTestId('nav-more').tap();
    await page.keyboard.press('Escape');
    assert.equal(await page.getByTestId('menu-panel').isVisible(), false, 'Escape closes the menu');
    await noSidewaysScroll(page);
  });

  it('desktop: every page is a tab and there is no "Más" button', async () => {
    const page = pages.desktop;
    assert.equal(await page.getByTestId('nav-more').isVisible(), false);
    for (const id of ['nav-board', 'nav-declare', 'nav-directory', 'nav-ladders', 'nav-drills', 'nav-indicators', 'who', 'signout']) {
      assert.ok(await page.getByTestId(id).isVisible(), `${id} is not visible`);
    }
  });

  for (const [size] of SIZES) {
    it(`${size}: the drill plan form writes the schedule from a picker and keeps what was typed when refused`, async () => {
      const page = pages[size];
      const c = counter(page, size);
      await page.evaluate(() => { location.hash = '#/simulacros'; });
      await page.getByTestId('drill-form').waitFor();
      // The page draws again when its lists arrive: measure once they are there.
      await page.locator('[data-testid="drill-plans"], [data-testid="drill-plans-empty"]').first().waitFor();
      // Every input of the form is a finger's height.
      const small = await page.evaluate(() => [...document.querySelectorAll('[data-testid="drill-form"] input.input, [data-testid="drill-form"] select')]
        .filter((x) => x.getBoundingClientRect().height < 44).map((x) => x.dataset.testid || x.getAttribute('aria-label')));
      assert.deepEqual(small, []);
      const add = page.getByTestId('drill-add-criterion');
      const colours = await add.evaluate((b) => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]);
      assert.notEqual(colours[0], colours[1], '"Añadir criterio" is invisible');

      // No name and no team: refused, what was typed stays, the fields are marked, and
      // nothing mentions an "id" the form does not have.
      await page.getByTestId('drill-title').fill(`Evacuación ${stamp}`);
      await c.tap('drill-repeat-weekly');
      await page.getByTestId('drill-weekday').selectOption('THU');
      await page.getByTestId('drill-time').fill('09:30');
      await page.getByTestId('drill-cron').filter({ hasText: '0 30 9 * * THU' }).waitFor();
      const refused = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/drills'));
      await c.tap('drill-save');
      assert.equal((await refused).status(), 422);
      await page.getByTestId('drill-form-error').waitFor();
      assert.equal(await page.getByTestId('drill-title').inputValue(), `Evacuación ${stamp}`);
      assert.equal(await page.getByTestId('drill-name').getAttribute('aria-invalid'), 'true');
      await page.getByTestId('drill-error-name').waitFor();
      assert.equal(await page.locator('[data-testid="drill-error-id"]').count(), 0);
      assert.doesNotMatch(await page.getByTestId('drill-form').textContent(), /\bid\b/);
      assert.equal(await page.getByTestId('drill-weekday').inputValue(), 'THU');

      const team = (await (await fetch(`${BASE}/api/v1/meta`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()).teams[0].id;
      await page.getByTestId('drill-name').fill(`Evacuación semanal ${size} ${stamp}`);
      await page.getByTestId(`drill-team-${team}`).check();
      await page.getByTestId('drill-channel-sms').check();
      const saved = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/drills'));
      await c.tap('drill-save');
      const res = await saved;
      assert.equal(res.status(), 201, await res.text());
      assert.equal(res.request().postDataJSON().schedule, '0 30 9 * * THU');
      await page.screenshot({ path: path.join(ARTIFACTS, `drill-form-${size}.png`), fullPage: true });
      const plan = await res.json();
      await fetch(`${BASE}/api/v1/drills/${plan.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
      await noSidewaysScroll(page);
    });
  }

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
