// Browser test of user management from the directory, at both sizes: an admin gives a
// person of the directory a login with a role, gets the set-password link to send by
// email, sends a new one, and disables and enables the login.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test access.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors } from './harness.mjs';
import { PHONE, DESKTOP } from './a11y.mjs';

describe('web app: an admin gives a person a login', { skip, timeout: 120_000 }, () => {
  let browser;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const rosa = { name: `Rosa Acceso ${stamp}`, email: `rosa-${stamp}@example.com` };
  const pages = {};

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await apiCall('POST', 'people/import', { csv: `name,email,phone,language,teams,manager_email\n${rosa.name},${rosa.email},,es,,\n` });
    rosa.id = (await apiCall('GET', `people/${rosa.email}`)).id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    for (const [size, opts] of [['phone', PHONE], ['desktop', DESKTOP]]) {
      const ctx = await browser.newContext(opts);
      ctx.setDefaultTimeout(15_000);
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

  it('phone: "Dar acceso" with a role gives the link to send by email', async () => {
    const page = pages.phone;
    await page.evaluate((id) => { location.hash = `#/directorio/personas/${encodeURIComponent(id)}`; }, rosa.id);
    const card = page.getByTestId('access-card');
    await card.getByTestId('access-invite').waitFor();
    await card.getByTestId('access-role').selectOption('manager');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/users'));
    await card.getByTestId('access-invite').tap();
    const res = await answer;
    assert.equal(res.status(), 201, await res.text());
    assert.deepEqual(res.request().postDataJSON(), { email: rosa.email, name: rosa.name, role: 'manager' });
    const url = await card.getByTestId('access-link-url').textContent();
    assert.match(url, new RegExp(`^${BASE}/set-password/.+`));
    const mail = await card.getByTestId('access-mail').getAttribute('href');
    assert.ok(mail.startsWith(`mailto:${encodeURIComponent(rosa.email)}?subject=`), mail);
    assert.ok(decodeURIComponent(mail).includes(url), 'the email carries the link');
    await card.locator('[data-testid="access-state"][data-state="active"]').waitFor();
    assert.match(await card.getByTestId('access-state').textContent(), /^Tiene acceso como responsable de continuidad\. Aún no ha puesto la contraseña\.$/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'access-phone.png'), fullPage: true });
  });

  it('desktop: a new link, a new role, disabled and enabled again', async () => {
    const page = pages.desktop;
    await page.evaluate((id) => { location.hash = `#/directorio/personas/${encodeURIComponent(id)}`; }, rosa.id);
    const card = page.getByTestId('access-card');
    await card.locator('[data-testid="access-state"][data-state="active"]').waitFor();
    const link = page.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/v1\/users\/[^/]+\/password-link$/.test(r.url()));
    await card.getByTestId('access-resend').click();
    assert.equal((await link).status(), 201);
    await card.getByTestId('access-link-url').waitFor();

    await card.getByTestId('access-role').selectOption('responder');
    await card.getByTestId('access-save-role').click();
    await card.getByTestId('access-state').filter({ hasText: 'equipo de respuesta' }).waitFor();

    page.once('dialog', (d) => d.accept());
    await card.getByTestId('access-disable').click();
    await card.locator('[data-testid="access-state"][data-state="disabled"]').waitFor();
    const users = await apiCall('GET', 'users');
    const u = users.find((x) => x.email === rosa.email);
    assert.ok(u.disabled_at, 'the user is not disabled');
    assert.equal(u.role, 'responder');
    await card.getByTestId('access-enable').click();
    await card.locator('[data-testid="access-state"][data-state="active"]').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'access-desktop.png'), fullPage: true });
  });

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
