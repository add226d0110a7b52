// Browser check of single sign-on, phone-sized (390×844), against a server whose
// provider "corp" is a real OpenID provider on loopback and whose password sign-in is
// off (cmd/optimum/sso_test.go, TestBrowserSSO, starts both). Not a *.test.mjs: the
// main suite's server has no provider.
//
// The sign-in page shows a button per provider and no password form (an access token
// stays the other way in); it passes axe and the 44 px rule in Spanish and in English;
// the button goes through the provider and back to the board, signed in as the person
// the provider vouched for; "Salir" ends the session here and at the provider.
//
//   OPTIMUM_URL=… OPTIMUM_TOKEN=… node --test sso.check.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, checkPage } from './a11y.mjs';

describe('single sign-on on a phone', { skip, timeout: 120_000 }, () => {
  const errors = [];
  let browser;
  let page;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const phone = await browser.newContext(PHONE);
    phone.setDefaultTimeout(15_000);
    page = await phone.newPage();
    watchErrors(page, errors);
  });

  after(async () => {
    await browser?.close();
  });

  it('offers the provider\'s button and no password form', async () => {
    await page.goto(`${BASE}/`);
    const button = page.locator('[data-testid="sso-corp"]');
    await button.waitFor();
    assert.equal((await button.textContent()).trim(), 'Entrar con Cuenta de la empresa');
    assert.equal(await page.locator('[data-testid="signin-email"]').count(), 0, 'the password form shows');
    assert.equal(await page.locator('[data-testid="signin-password"]').count(), 0, 'the password form shows');
    await noSidewaysScroll(page);
    await checkPage(page, 'sso-signin-phone');
    // The access token is still the other way in.
    await page.locator('[data-testid="signin-mode"]').click();
    await page.locator('[data-testid="token-input"]').waitFor();
    await page.locator('[data-testid="signin-mode"]').click();
    await button.waitFor();
  });

  it('says it in English when asked', async () => {
    await page.locator('[data-testid="lang-en"]').click();
    const button = page.locator('[data-testid="sso-corp"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="sso-corp"]')?.textContent.includes('Sign in with'));
    assert.equal((await button.textContent()).trim(), 'Sign in with Company account');
    await checkPage(page, 'sso-signin-phone-en');
    await page.locator('[data-testid="lang-es"]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="sso-corp"]')?.textContent.includes('Entrar con'));
  });

  it('signs in through the provider and opens the board', async () => {
    await page.locator('[data-testid="sso-corp"]').click();
    await page.waitForURL((u) => u.origin === BASE && u.hash.startsWith('#/tablero'));
    await page.locator('[data-testid="signin"]').waitFor({ state: 'detached' });
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
    assert.equal(me.name, 'Sol Méndez');
    assert.equal(me.role, 'manager');
    await page.screenshot({ path: path.join(ARTIFACTS, 'sso-board-phone.png'), fullPage: true });
  });

  it('signs out here and at the provider, and comes back to the sign-in page', async () => {
    // On a phone "Salir" is in the "Más" menu.
    await page.getByTestId('nav-more').tap();
    await page.getByTestId('signout').tap();
    await page.waitForURL((u) => u.origin === BASE && u.pathname === '/' && !u.search);
    await page.locator('[data-testid="sso-corp"]').waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    assert.equal(me, 401);
  });

  it('shows the buttons after signing out of a page that opened signed in', async () => {
    const status = await page.evaluate(async (token) => (await fetch('/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }),
    })).status, TOKEN);
    assert.equal(status, 200);
    await page.goto(`${BASE}/#/tablero`);
    await page.reload(); // a new page load, signed in: it never showed the sign-in view
    await page.getByTestId('board-heading').waitFor();
    await page.getByTestId('nav-more').tap();
    await page.getByTestId('signout').tap();
    await page.locator('[data-testid="sso-corp"]').waitFor();
    assert.equal(await page.locator('[data-testid="signin-password"]').count(), 0, 'the password form shows');
    assert.deepEqual(errors, []);
  });
});
