// Browser test of the team chats and webhooks page (#/chats), at 390×844 and at desktop
// size, with axe-core on each of its states: a team's Teams channel is added (first with
// the server's field error next to the URL field), breaks when its endpoint is refused
// (an internal address: the outbound guard refuses it and marks it broken), shows why and
// its failed post, is resumed, and deleted after a confirmation; an admin adds a webhook
// and is shown its secret once; a manager sees the team chats but no webhooks; English
// on request.
//
//   OPTIMUM_URL=http://127.0.0.1:PORT OPTIMUM_TOKEN=<admin token> ARTIFACTS=/tmp/art node --test chat.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { BASE, TOKEN, ARTIFACTS, CHROMIUM, skip, apiCall, watchErrors, noSidewaysScroll } from './harness.mjs';
import { PHONE, DESKTOP, pageProblems } from './a11y.mjs';

describe('web app: team chats and webhooks', { skip, timeout: 180_000 }, () => {
  let browser;
  let team;
  const errors = [];
  const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    team = (await apiCall('GET', 'meta')).teams[0].id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
  });

  after(async () => {
    await browser?.close();
  });

  // open signs in with the token and opens the page from the header (the "Más" menu on a
  // phone, a header link on a wider screen).
  async function open(opts, size, token = TOKEN) {
    const ctx = await browser.newContext(opts);
    ctx.setDefaultTimeout(15_000);
    const page = await ctx.newPage();
    watchErrors(page, errors);
    await page.goto(`${BASE}/#/login?token=${encodeURIComponent(token)}`);
    await page.getByTestId('board-heading').waitFor();
    if (size === 'phone') await page.getByTestId('nav-more').tap();
    await page.getByTestId('more-chats').click();
    await page.getByTestId('chat-page').waitFor();
    await page.waitForLoadState('networkidle').catch(() => {});
    return { ctx, page };
  }

  for (const [size, opts] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    it(`${size}: a team's channel is added, breaks with its reason, is resumed and deleted after confirming`, async () => {
      const { ctx, page } = await open(opts, size);
      const press = (loc) => (size === 'phone' ? loc.tap() : loc.click());
      const problems = [];
      assert.equal((await page.locator('h1').textContent()).trim(), 'Chats de equipo y webhooks');
      assert.equal(await page.getByTestId('more-chats').getAttribute('aria-current'), 'page');
      problems.push(...await pageProblems(page, `${size}-chat-list`));

      // The server refuses a Teams channel without its URL: the message is next to the field.
      await press(page.getByTestId('chat-add-channel'));
      const form = page.getByTestId('chat-form');
      await form.waitFor();
      await form.getByTestId('chat-in-team').selectOption(team);
      await form.getByTestId('chat-in-kind').selectOption('teams');
      const name = `Canal ${size} ${stamp}`;
      await form.getByTestId('chat-in-name').fill(name);
      const refused = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/chat-channels'));
      await press(form.getByTestId('chat-save'));
      assert.equal((await refused).status(), 422);
      const urlErr = form.getByTestId('chat-field-url').getByTestId('chat-err-url');
      await urlErr.waitFor();
      assert.equal((await urlErr.textContent()).trim(), 'es obligatorio');
      assert.equal(await form.getByTestId('chat-in-url').getAttribute('aria-invalid'), 'true');
      assert.match(await form.getByTestId('chat-in-url').getAttribute('aria-describedby'), /chat-f-url-err/);
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'chat-f-url');
      assert.match(await page.getByTestId('chat-form-problem').textContent(), /El canal de chat tiene errores/);
      await noSidewaysScroll(page);
      problems.push(...await pageProblems(page, `${size}-chat-form-errors`));
      // Nothing was created.
      assert.equal((await apiCall('GET', 'chat-channels')).filter((c) => c.name === name).length, 0);

      // An endpoint at an internal address is accepted (its address is checked when
      // posting, after DNS) and breaks on the first post.
      await form.getByTestId('chat-in-url').fill(`https://127.0.0.1:9/workflows/${stamp}`);
      const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/chat-channels'));
      await press(form.getByTestId('chat-save'));
      assert.equal((await created).status(), 201);
      await page.getByTestId('chat-notice').filter({ hasText: `Se agregó «${name}».` }).waitFor();
      const card = page.getByTestId('chat-sub').filter({ hasText: name });
      await card.waitFor();
      assert.equal(await card.getAttribute('data-state'), 'ok');
      assert.equal((await card.getByTestId('chat-state').textContent()).trim(), 'Funciona');
      const id = await card.getAttribute('data-id');
      const stored = (await apiCall('GET', 'chat-channels')).find((c) => c.id === id);
      assert.equal(stored.team, team);
      assert.equal(stored.kind, 'teams');
      assert.equal(stored.host, '127.0.0.1');

      // A drill of the team: its post is refused and the channel breaks.
      await apiCall('POST', 'incidents', { json: { title: `Simulacro de chat ${size} ${stamp}`, impact: 'high', urgency: 'high', drill: true, teams: [team] }, want: 201 });
      const deadline = Date.now() + 30_000;
      while (await card.getAttribute('data-state') !== 'broken') {
        assert.ok(Date.now() < deadline, 'the channel did not break');
        await page.waitForTimeout(300);
        await press(page.getByTestId('chat-refresh'));
        await page.waitForLoadState('networkidle').catch(() => {});
      }
      const broken = (await apiCall('GET', 'chat-channels')).find((c) => c.id === id);
      assert.ok(broken.broken_at && broken.broken_reason, JSON.stringify(broken));
      assert.equal((await card.getByTestId('chat-state').textContent()).trim(), 'Roto');
      const reason = (await card.getByTestId('chat-broken-reason').textContent()).trim();
      assert.ok(reason.startsWith('Roto desde ') && reason.endsWith(broken.broken_reason), reason);

      // Its latest posts: the drill's alert, failed, with the reason.
      await press(card.getByTestId('chat-posts-toggle'));
      const post = card.getByTestId('chat-post').first();
      await post.waitFor();
      const posts = await apiCall('GET', `chat-channels/${id}/posts`);
      assert.equal(await post.getAttribute('data-status'), posts[0].status);
      assert.equal(posts[0].status, 'failed');
      assert.match(await post.textContent(), new RegExp(`Simulacro de chat ${size} ${stamp}`));
      assert.equal((await post.getByTestId('chat-post-status').textContent()).trim(), 'Falló');
      assert.equal((await post.getByTestId('chat-post-error').textContent()).trim(), posts[0].error);
      assert.equal(await card.getByTestId('chat-attempt').count(), posts[0].attempts.length);
      assert.equal(await card.getByTestId('chat-posts-toggle').getAttribute('aria-expanded'), 'true');
      await noSidewaysScroll(page);
      problems.push(...await pageProblems(page, `${size}-chat-broken`));

      // The readiness page lists it among the broken ones, with the reason.
      await page.evaluate(() => { location.hash = '#/directorio/preparacion'; });
      const listed = page.locator(`[data-testid="ready-chat-broken"] li[data-id="${id}"]`);
      await listed.waitFor();
      assert.ok((await listed.textContent()).includes(broken.broken_reason));
      problems.push(...await pageProblems(page, `${size}-chat-readiness`));
      await page.evaluate(() => { location.hash = '#/chats'; });
      await card.waitFor();

      // Resumed: working again.
      await press(card.getByTestId('chat-resume'));
      await page.getByTestId('chat-notice').filter({ hasText: `«${name}» vuelve a recibir avisos.` }).waitFor();
      assert.equal(await card.getAttribute('data-state'), 'ok');
      assert.equal((await apiCall('GET', 'chat-channels')).find((c) => c.id === id).broken_at, null);
      assert.equal(await card.getByTestId('chat-resume').count(), 0);

      // Deleting asks first; "Cancelar" keeps it.
      await press(card.getByTestId('chat-delete'));
      const dialog = page.getByTestId('chat-confirm');
      await dialog.waitFor();
      assert.equal((await dialog.locator('h2').textContent()).trim(), `¿Eliminar «${name}»?`);
      problems.push(...await pageProblems(page, `${size}-chat-confirm`));
      await press(dialog.getByTestId('chat-confirm-cancel'));
      await dialog.waitFor({ state: 'detached' });
      assert.ok((await apiCall('GET', 'chat-channels')).some((c) => c.id === id));
      await press(card.getByTestId('chat-delete'));
      await press(page.getByTestId('chat-confirm').getByTestId('chat-confirm-ok'));
      await page.getByTestId('chat-notice').filter({ hasText: `Se eliminó «${name}».` }).waitFor();
      assert.equal(await page.locator(`[data-testid="chat-sub"][data-id="${id}"]`).count(), 0);
      assert.ok(!(await apiCall('GET', 'chat-channels')).some((c) => c.id === id));

      await ctx.close();
      assert.deepEqual(problems, [], 'accessibility problems');
    });

    it(`${size}: an admin adds a webhook, with field errors first, and sees its secret once`, async () => {
      const { ctx, page } = await open(opts, size);
      const press = (loc) => (size === 'phone' ? loc.tap() : loc.click());
      await page.getByTestId('chat-webhooks').waitFor();
      await press(page.getByTestId('chat-add-webhook'));
      const form = page.getByTestId('chat-form');
      await form.waitFor();
      assert.equal(await form.getAttribute('data-what'), 'webhook');
      const name = `Mesa ${size} ${stamp}`;
      await form.getByTestId('chat-in-name').fill(name);
      await form.getByTestId('chat-in-url').fill('ftp://itsm.example.com/hook');
      await form.getByTestId('chat-in-events').fill('incident.*, incidente.declarado');
      await press(form.getByTestId('chat-save'));
      await form.getByTestId('chat-err-events').waitFor();
      assert.equal((await form.getByTestId('chat-err-url').textContent()).trim(), 'debe ser una URL https');
      assert.match(await form.getByTestId('chat-err-events').textContent(), /incidente\.declarado.*no es un tipo de evento/);
      assert.equal(await form.getByTestId('chat-err-name').count(), 0);
      assert.deepEqual(await pageProblems(page, `${size}-chat-webhook-errors`), [], 'accessibility problems');
      assert.ok(!(await apiCall('GET', 'webhooks')).some((w) => w.name === name));

      await form.getByTestId('chat-in-url').fill(`https://itsm-${stamp}.example.com/hooks/optimum`);
      await form.getByTestId('chat-in-events').fill('incident.declared, drill.*');
      await press(form.getByTestId('chat-save'));
      await page.getByTestId('chat-notice').filter({ hasText: `Se agregó «${name}».` }).waitFor();
      const secret = (await page.getByTestId('chat-secret').textContent()).trim();
      assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      const card = page.getByTestId('chat-sub').filter({ hasText: name });
      assert.equal(await card.getAttribute('data-kind'), 'webhook');
      assert.match(await card.textContent(), /Eventos: drill\.\*, incident\.declared/);
      const hook = (await apiCall('GET', 'webhooks')).find((w) => w.name === name);
      assert.deepEqual(hook.events, ['drill.*', 'incident.declared']);
      assert.equal(hook.secret, undefined);
      // Shown once: opened again, the page has no secret.
      await page.evaluate(() => { location.hash = '#/tablero'; });
      await page.getByTestId('board-heading').waitFor();
      await page.evaluate(() => { location.hash = '#/chats'; });
      await page.getByTestId('chat-sub').filter({ hasText: name }).waitFor();
      assert.equal(await page.getByTestId('chat-secret').count(), 0);
      await apiCall('DELETE', `webhooks/${hook.id}`, { want: 204 });
      await ctx.close();
    });
  }

  it('a manager sees the team chats and no webhooks; English on request', async () => {
    await apiCall('POST', 'webhooks', { json: { name: `Oculto ${stamp}`, url: 'https://hidden.example.com/h', events: ['team.*'] }, want: 201 });
    const chan = await apiCall('POST', 'chat-channels', { json: { team, kind: 'slack', token: 'xoxb-1-2-abc', channel: 'C0123456789', name: `Slack ${stamp}`, language: 'en' }, want: 201 });
    const { token } = await apiCall('POST', 'tokens', { json: { name: `Gerente ${stamp}`, role: 'manager' }, want: 201 });
    const { ctx, page } = await open(PHONE, 'phone', token);
    const card = page.locator(`[data-testid="chat-sub"][data-id="${chan.id}"]`);
    await card.waitFor();
    assert.match(await card.textContent(), /canal C0123456789/);
    assert.match(await card.textContent(), /Avisos en inglés/);
    assert.equal(await page.getByTestId('chat-webhooks').count(), 0);
    assert.equal(await page.getByTestId('chat-add-webhook').count(), 0);
    assert.ok(!(await page.textContent('body')).includes(`Oculto ${stamp}`));

    await page.getByTestId('lang-en').tap();
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Team chats and webhooks');
    assert.equal((await card.getByTestId('chat-state').textContent()).trim(), 'Working');
    assert.match(await card.textContent(), /Posts in English/);
    assert.equal((await card.getByTestId('chat-delete').textContent()).trim(), 'Delete');
    const found = await pageProblems(page, 'phone-chat-manager-en');
    await page.getByTestId('lang-es').tap();
    await ctx.close();
    await apiCall('DELETE', `chat-channels/${chan.id}`, { want: 204 });
    for (const w of await apiCall('GET', 'webhooks')) if (w.name === `Oculto ${stamp}`) await apiCall('DELETE', `webhooks/${w.id}`, { want: 204 });
    assert.deepEqual(found, [], 'accessibility problems');
  });

  for (const [size, opts] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    it(`${size}: the drill board and the incident page say what each team's chat got`, async () => {
      const teamA = `chat-a-${size}-${stamp}`;
      const teamB = `chat-b-${size}-${stamp}`;
      await apiCall('POST', 'people/import', {
        csv: ['name,email,phone,language,teams,manager_email',
          `Alma ${size} ${stamp},alma-${size}-${stamp}@chat.example.com,,es,${teamA}:lead,`,
          `Beto ${size} ${stamp},beto-${size}-${stamp}@chat.example.com,,es,${teamB}:lead,`].join('\n'),
      });
      const name = `Canal del simulacro ${size} ${stamp}`;
      const chan = await apiCall('POST', 'chat-channels', { json: { team: teamA, kind: 'teams', name, url: `https://127.0.0.1:9/drill/${stamp}` }, want: 201 });
      const plan = await apiCall('POST', 'drills', {
        json: { name: `Chats ${size} ${stamp}`, scenario: { title: `Simulacro de chats ${size} ${stamp}` }, teams: [teamA, teamB], window: '30m',
          criteria: [{ scope: 'all', percent: 50, within: '10m' }] },
        want: 201,
      });
      const run = await apiCall('POST', `drills/${plan.id}/runs`, { want: 201 });
      let rep;
      const deadline = Date.now() + 30_000;
      for (;;) {
        rep = await apiCall('GET', `drill-runs/${run.id}/report`);
        if (rep.team_chats?.[0]?.channels?.[0]?.status === 'failed') break;
        assert.ok(Date.now() < deadline, `the drill's post did not fail: ${JSON.stringify(rep.team_chats)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(rep.team_chats.map((g) => [g.team, g.channels.length]), [[teamA, 1], [teamB, 0]]);
      const failed = rep.team_chats[0].channels[0];

      const { ctx, page } = await open(opts, size);
      const problems = [];
      await page.evaluate((id) => { location.hash = `#/simulacros/${encodeURIComponent(id)}`; }, run.id);
      const board = page.getByTestId('drill-team-chats');
      await board.waitFor();
      const a = board.locator(`[data-testid="team-chat"][data-team="${teamA}"]`);
      assert.match(await a.textContent(), new RegExp(name));
      assert.equal((await a.getByTestId('team-chat-status').textContent()).trim(), 'Falló');
      assert.equal((await a.getByTestId('team-chat-error').textContent()).trim(), failed.error);
      assert.equal((await board.locator(`[data-testid="team-chat"][data-team="${teamB}"]`).getByTestId('team-chat-nochannel').textContent()).trim(),
        'Este equipo no tiene canal de chat.');
      await noSidewaysScroll(page);
      problems.push(...await pageProblems(page, `${size}-chat-drill-board`));

      await page.evaluate((f) => { location.hash = `#/incidente/${encodeURIComponent(f)}`; }, run.folio || rep.header.folio);
      const card = page.getByTestId('incident-team-chats');
      await card.waitFor();
      const inc = card.locator(`[data-testid="team-chat"][data-team="${teamA}"]`);
      await inc.getByTestId('team-chat-post').first().waitFor();
      assert.equal(await inc.getByTestId('team-chat-post').first().getAttribute('data-status'), 'failed');
      assert.equal((await inc.getByTestId('team-chat-error').first().textContent()).trim(), failed.error);
      await card.scrollIntoViewIfNeeded();
      await noSidewaysScroll(page);
      problems.push(...await pageProblems(page, `${size}-chat-incident`));
      await ctx.close();
      await apiCall('POST', `drill-runs/${run.id}/cancel`);
      await apiCall('DELETE', `chat-channels/${chan.id}`, { want: 204 });
      assert.deepEqual(problems, [], 'accessibility problems');
    });
  }

  it('no page raised an error', () => {
    assert.deepEqual(errors, []);
  });
});
