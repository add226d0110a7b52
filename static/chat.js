// OPTIMUM BCP web app: team chats and outbound webhooks, #/chats (issue 17).
//
// Continuity managers see each team's chat channel (Microsoft Teams or Slack); admins
// also see the webhooks. Each is shown with its state (working, or broken with what the
// endpoint answered), its latest posts on request, and can be resumed when broken or
// deleted after a confirmation. "Agregar" opens a form whose fields get the server's
// problem+json errors next to them; nothing is checked here that the server does not
// check again. The API: GET/POST /api/v1/chat-channels and /api/v1/webhooks, DELETE
// …/{id}, POST …/{id}/resume, GET …/{id}/posts. Strings are in chat-i18n.js.

import { state, t, h, api, show, ProblemError, errorText, teamName, fmtTime, can, nav, focusHeading, userName } from './core.js';

const page = {
  nav: -1, channels: null, webhooks: null, error: null, notice: null, secret: null,
  form: null, // {what: 'channel'|'webhook', values, errors: {field: message}, detail, saving}
  posts: {}, // subscription id → [posts] or {error}, for the ones shown
  busy: {}, // subscription id → true while resuming or deleting
};

const FIELDS = {
  channel: ['team', 'kind', 'name', 'url', 'token', 'channel', 'language'],
  webhook: ['name', 'url', 'events'],
};

export function forgetChat() {
  Object.assign(page, { nav: -1, channels: null, webhooks: null, error: null, notice: null, secret: null, form: null, posts: {}, busy: {} });
}

async function load() {
  page.nav = nav.seq;
  try {
    const [channels, webhooks] = await Promise.all([
      api('GET', 'chat-channels'),
      can('admin') ? api('GET', 'webhooks') : Promise.resolve(null),
    ]);
    Object.assign(page, { channels, webhooks, error: null });
    // Open post lists follow the refresh.
    await Promise.all(Object.keys(page.posts).map((id) => loadPosts(id)));
  } catch (e) {
    page.error = errorText(e);
  }
}

function path(sub) {
  return sub.kind === 'webhook' ? `webhooks/${encodeURIComponent(sub.id)}` : `chat-channels/${encodeURIComponent(sub.id)}`;
}

function findSub(id) {
  return [...(page.channels || []), ...(page.webhooks || [])].find((s) => s.id === id);
}

async function loadPosts(id) {
  const sub = findSub(id);
  if (!sub) {
    delete page.posts[id];
    return;
  }
  try {
    page.posts[id] = await api('GET', `${path(sub)}/posts`);
  } catch (e) {
    page.posts[id] = { error: errorText(e) };
  }
}

async function refresh() {
  await load();
  renderChat();
}

async function togglePosts(sub) {
  if (page.posts[sub.id]) {
    delete page.posts[sub.id];
    renderChat();
    return;
  }
  page.posts[sub.id] = { loading: true };
  renderChat();
  await loadPosts(sub.id);
  renderChat();
}

async function resume(sub) {
  page.busy[sub.id] = true;
  renderChat();
  try {
    await api('POST', `${path(sub)}/resume`);
    page.notice = t('chat.resumed', { name: sub.name });
    await load();
  } catch (e) {
    page.error = errorText(e);
  }
  delete page.busy[sub.id];
  renderChat();
}

async function remove(sub) {
  if (!await confirmDelete(sub)) {
    document.querySelector(`[data-testid="chat-delete"][data-id="${sub.id}"]`)?.focus();
    return;
  }
  page.busy[sub.id] = true;
  renderChat();
  try {
    await api('DELETE', path(sub));
    page.notice = t('chat.deleted', { name: sub.name });
    page.secret = null;
    delete page.posts[sub.id];
    await load();
  } catch (e) {
    page.error = errorText(e);
  }
  delete page.busy[sub.id];
  renderChat();
}

// confirmDelete asks in a modal <dialog>; resolves true on "Eliminar".
function confirmDelete(sub) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'dialog', testid: 'chat-confirm', 'aria-labelledby': 'chat-confirm-title', 'aria-describedby': 'chat-confirm-body' });
    const close = (answer) => {
      dlg.close();
      dlg.remove();
      resolve(answer);
    };
    dlg.append(
      h('h2', { id: 'chat-confirm-title' }, t('chat.deleteQ', { name: sub.name })),
      h('p', { id: 'chat-confirm-body' }, t('chat.deleteBody')),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', testid: 'chat-confirm-cancel', onclick: () => close(false) }, t('chat.cancel')),
        h('button', { type: 'button', class: 'btn btn-danger', testid: 'chat-confirm-ok', onclick: () => close(true) }, t('chat.delete'))));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(false); });
    document.body.append(dlg);
    dlg.showModal();
    dlg.querySelector('[data-testid="chat-confirm-cancel"]').focus();
  });
}

// ---------------------------------------------------------------- the form

function openForm(what) {
  const teams = state.meta?.teams || [];
  const values = what === 'channel'
    ? { team: teams[0]?.id || '', kind: 'teams', name: '', url: '', token: '', channel: '', language: state.lang === 'en' ? 'en' : 'es' }
    : { name: '', url: '', events: 'incident.*' };
  Object.assign(page, { form: { what, values, errors: {}, detail: null, saving: false }, notice: null, secret: null });
  renderChat();
  document.querySelector('[data-testid="chat-form"] input, [data-testid="chat-form"] select')?.focus();
}

async function submit(ev) {
  ev.preventDefault();
  const f = page.form;
  if (!f || f.saving) return;
  const v = f.values;
  let body;
  if (f.what === 'channel') {
    body = { team: v.team, kind: v.kind, name: v.name.trim(), language: v.language };
    if (v.url.trim()) body.url = v.url.trim();
    if (v.kind === 'slack' && v.token.trim()) body.token = v.token.trim();
    if (v.kind === 'slack' && v.channel.trim()) body.channel = v.channel.trim();
  } else {
    body = { name: v.name.trim(), url: v.url.trim(), events: v.events.split(',').map((x) => x.trim()).filter(Boolean) };
  }
  f.saving = true;
  renderChat();
  try {
    const created = await api('POST', f.what === 'channel' ? 'chat-channels' : 'webhooks', { body });
    page.form = null;
    page.notice = t('chat.created', { name: created.name });
    page.secret = created.secret || null;
    await load();
    renderChat();
    document.querySelector('[data-testid="chat-notice"]')?.focus();
    return;
  } catch (e) {
    f.errors = {};
    f.detail = errorText(e);
    if (e instanceof ProblemError) {
      for (const p of e.problem.errors || []) {
        const field = FIELDS[f.what].includes(p.field) ? p.field : null;
        if (field) f.errors[field] = f.errors[field] ? `${f.errors[field]} ${p.message}` : p.message;
        else f.detail = `${f.detail} ${p.field ? `${p.field}: ` : ''}${p.message}`;
      }
    }
  }
  f.saving = false;
  renderChat();
  const first = FIELDS[f.what].find((x) => f.errors[x]);
  document.getElementById(first ? `chat-f-${first}` : 'chat-form-problem')?.focus();
}

function formView() {
  const f = page.form;
  const v = f.values;
  const field = (name, control, hint) => {
    const id = `chat-f-${name}`;
    const err = f.errors[name];
    const describedBy = [hint ? `${id}-hint` : null, err ? `${id}-err` : null].filter(Boolean).join(' ') || null;
    control.id = id;
    if (describedBy) control.setAttribute('aria-describedby', describedBy);
    if (err) control.setAttribute('aria-invalid', 'true');
    return h('div', { class: 'field', testid: `chat-field-${name}` },
      h('label', { class: 'label', for: id }, t(`chat.field.${name}`)),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      control,
      err ? h('p', { class: 'field-error', id: `${id}-err`, testid: `chat-err-${name}` }, err) : null);
  };
  const input = (name, props = {}) => h('input', {
    class: 'input', type: 'text', value: v[name] || '', testid: `chat-in-${name}`, autocomplete: 'off', spellcheck: 'false', ...props,
    oninput: (e) => { v[name] = e.target.value; },
  });
  const select = (name, options, onchange) => h('select', {
    class: 'input', testid: `chat-in-${name}`,
    onchange: (e) => { v[name] = e.target.value; if (onchange) onchange(); },
  }, options.map(([value, label]) => h('option', { value, selected: value === v[name] }, label)));

  let fields;
  if (f.what === 'channel') {
    const teams = state.meta?.teams || [];
    fields = [
      field('team', select('team', teams.map((x) => [x.id, teamName(x.id)]))),
      field('kind', select('kind', [['teams', t('chat.kind.teams')], ['slack', t('chat.kind.slack')]], renderChat)),
      field('name', input('name', { maxlength: 100 }), t('chat.hint.name')),
      field('url', input('url', { type: 'url', inputmode: 'url' }), t(`chat.hint.url.${v.kind}`)),
      v.kind === 'slack' ? field('token', input('token', { type: 'password' }), t('chat.hint.token')) : null,
      v.kind === 'slack' ? field('channel', input('channel'), t('chat.hint.channel')) : null,
      field('language', select('language', [['es', t('chat.lang.es')], ['en', t('chat.lang.en')]])),
    ];
  } else {
    fields = [
      field('name', input('name', { maxlength: 100 }), t('chat.hint.webhookName')),
      field('url', input('url', { type: 'url', inputmode: 'url' }), t('chat.hint.url.webhook')),
      field('events', input('events'), t('chat.hint.events')),
    ];
  }
  return h('form', { class: 'card stack', testid: 'chat-form', 'data-what': f.what, novalidate: true, onsubmit: submit, 'aria-labelledby': 'chat-form-title' },
    h('h2', { id: 'chat-form-title' }, t(f.what === 'channel' ? 'chat.newChannel' : 'chat.newWebhook')),
    f.detail ? h('p', { class: 'alert alert-error', role: 'alert', id: 'chat-form-problem', tabindex: '-1', testid: 'chat-form-problem' }, f.detail) : null,
    fields,
    h('p', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'chat-save', disabled: f.saving }, f.saving ? t('chat.saving') : t('chat.save')),
      ' ',
      h('button', { type: 'button', class: 'btn', testid: 'chat-cancel', onclick: () => { page.form = null; renderChat(); } }, t('chat.cancel'))));
}

// ---------------------------------------------------------------- the lists

function postsView(sub) {
  const posts = page.posts[sub.id];
  const title = h('h3', {}, t('chat.postsTitle', { name: sub.name }));
  if (posts.loading) return h('div', { class: 'chat-posts', testid: 'chat-posts' }, title, h('p', { class: 'loading' }, t('loading')));
  if (posts.error) return h('div', { class: 'chat-posts', testid: 'chat-posts' }, title, h('p', { class: 'error', role: 'alert' }, posts.error));
  if (!posts.length) return h('div', { class: 'chat-posts', testid: 'chat-posts' }, title, h('p', { class: 'muted', testid: 'chat-posts-empty' }, t('chat.postsEmpty')));
  return h('div', { class: 'chat-posts', testid: 'chat-posts' }, title,
    h('ul', { class: 'chat-post-list' }, posts.map((p) => h('li', { class: 'chat-post', testid: 'chat-post', 'data-status': p.status },
      h('p', {},
        h('span', { class: `chip chip-${p.status === 'sent' ? 'sent' : p.status === 'failed' ? 'failed' : 'warn'}`, testid: 'chat-post-status' }, t(`chat.post.${p.status}`)),
        ' ', h('strong', {}, p.title || p.id)),
      p.sent_at ? h('p', { class: 'muted small' }, t('chat.sentAt', { time: fmtTime(p.sent_at) })) : null,
      p.error ? h('p', { class: 'chat-post-error', testid: 'chat-post-error' }, p.error) : null,
      (p.attempts || []).length ? h('ol', { class: 'chat-attempts small' }, p.attempts.map((a) => h('li', { testid: 'chat-attempt' },
        t('chat.attempt', { n: a.attempt, time: fmtTime(a.started_at), outcome: t(`chat.outcome.${a.outcome}`) }),
        a.reason ? ` — ${a.reason}` : ''))) : null))));
}

function subCard(sub) {
  const broken = !!sub.broken_at;
  const busy = !!page.busy[sub.id];
  const open = !!page.posts[sub.id];
  const where = [sub.host ? t('chat.to', { host: sub.host }) : null, sub.channel ? t('chat.slackChannel', { channel: sub.channel }) : null].filter(Boolean).join(' · ');
  return h('li', { class: `card chat-sub${broken ? ' chat-broken' : ''}`, testid: 'chat-sub', 'data-id': sub.id, 'data-kind': sub.kind, 'data-state': broken ? 'broken' : 'ok' },
    h('h3', { class: 'chat-sub-title' }, sub.name, ' ',
      h('span', { class: 'chip' }, t(`chat.kind.${sub.kind}`))),
    h('p', { class: 'chat-sub-state' },
      h('span', { class: `state ${broken ? 'state-broken' : 'state-on'}`, testid: 'chat-state' }, broken ? t('chat.broken') : t('chat.ok'))),
    broken ? h('div', { class: 'alert alert-warn', testid: 'chat-broken' },
      h('p', { testid: 'chat-broken-reason' }, t('chat.brokenSince', { time: fmtTime(sub.broken_at), reason: sub.broken_reason || '' })),
      h('p', {}, t('chat.brokenHelp'))) : null,
    h('p', { class: 'muted' }, [
      sub.team ? t('chat.teamOf', { team: teamName(sub.team) }) : null,
      where || null,
      sub.kind !== 'webhook' ? t('chat.langOf', { lang: t(`chat.lang.${sub.language || 'es'}`) }) : null,
      sub.events?.length ? t('chat.eventsOf', { events: sub.events.join(', ') }) : null,
    ].filter(Boolean).join(' · ')),
    h('p', { class: 'muted small' }, t('chat.createdBy', { time: fmtTime(sub.created_at), who: sub.created_by ? userName({ name: sub.created_by }) : '—' })),
    h('div', { class: 'chat-actions' },
      h('button', { type: 'button', class: 'btn', testid: 'chat-posts-toggle', 'data-id': sub.id, 'aria-expanded': String(open), onclick: () => togglePosts(sub) },
        open ? t('chat.hidePosts') : t('chat.posts')),
      broken ? h('button', { type: 'button', class: 'btn btn-primary', testid: 'chat-resume', 'data-id': sub.id, disabled: busy, onclick: () => resume(sub) }, t('chat.resume')) : null,
      h('button', { type: 'button', class: 'btn btn-danger', testid: 'chat-delete', 'data-id': sub.id, disabled: busy, onclick: () => remove(sub) }, t('chat.delete'))),
    open ? postsView(sub) : null);
}

function section(id, title, lead, list, empty, addLabel, what) {
  return h('section', { class: 'chat-section', testid: `chat-${id}`, 'aria-labelledby': `chat-${id}-title` },
    h('div', { class: 'page-head' },
      h('h2', { id: `chat-${id}-title` }, title),
      // No form before the lists come: drawn again when they do, it would be redrawn under
      // the fingers of someone typing.
      page.form || list == null ? null : h('button', { type: 'button', class: 'btn btn-primary', testid: `chat-add-${what}`, onclick: () => openForm(what) }, addLabel)),
    lead ? h('p', { class: 'muted' }, lead) : null,
    page.form?.what === what ? formView() : null,
    list == null ? h('p', { class: 'loading' }, t('loading'))
      : list.length ? h('ul', { class: 'chat-list' }, list.map(subCard)) : h('p', { class: 'muted', testid: `chat-${id}-empty` }, empty));
}

// renderChat draws the page, loading the lists when the page is opened.
export function renderChat() {
  const fresh = page.nav !== nav.seq;
  if (fresh) {
    Object.assign(page, { form: null, notice: null, secret: null, error: null, posts: {} });
    load().then(() => renderChat());
  }
  show(h('section', { class: 'page page-wide chat-page', testid: 'chat-page' },
    h('div', { class: 'page-head' },
      h('h1', {}, t('chat.title')),
      h('button', { type: 'button', class: 'btn', testid: 'chat-refresh', onclick: refresh }, t('chat.refresh'))),
    h('p', { class: 'lead' }, t('chat.lead')),
    page.notice ? h('div', { class: 'alert alert-ok', role: 'status', tabindex: '-1', testid: 'chat-notice' },
      h('p', {}, page.notice),
      page.secret ? h('p', {}, t('chat.secret'), ' ', h('code', { class: 'chat-secret', testid: 'chat-secret', 'aria-label': t('chat.secretLabel') }, page.secret)) : null) : null,
    page.error ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'chat-error' }, page.error) : null,
    section('channels', t('chat.channels'), null, page.channels, t('chat.channelsEmpty'), t('chat.addChannel'), 'channel'),
    can('admin') ? section('webhooks', t('chat.webhooks'), t('chat.webhooksLead'), page.webhooks, t('chat.webhooksEmpty'), t('chat.addWebhook'), 'webhook') : null));
  if (fresh) focusHeading();
}

// ---------------------------------------------------------------- per team, elsewhere

// teamChatsList shows what each team's chat channels got: groups are
// [{team, channels: [{name, kind, posts: [{title, status, at, answer, error}]}]}]. The
// drill report and the incident page use it.
export function teamChatsList(groups, testid = 'team-chats') {
  if (!groups.length) return h('p', { class: 'muted', testid: `${testid}-none` }, t('chat.teamPostsNone'));
  const bad = (st) => st === 'failed' || st === 'cancelled';
  const postLine = (p) => h('li', { class: 'chat-post', testid: 'team-chat-post', 'data-status': p.status },
    h('p', {},
      h('span', { class: `chip chip-${p.status === 'sent' ? 'sent' : bad(p.status) ? 'failed' : 'warn'}`, testid: 'team-chat-status' }, t(`chat.post.${p.status}`)),
      p.at ? ` ${fmtTime(p.at)} · ` : ' ', p.title),
    bad(p.status)
      ? h('p', { class: 'chat-post-error', testid: 'team-chat-error' }, p.error || p.answer || '—')
      : h('p', { class: 'muted small', testid: 'team-chat-answer' }, p.answer || t('chat.noAnswer')));
  const channelLine = (c) => h('li', { testid: 'team-chat-channel', 'data-subscription': c.subscription },
    h('p', {}, h('strong', {}, c.name), ' ', h('span', { class: 'chip' }, t(`chat.kind.${c.kind}`))),
    h('ul', { class: 'chat-post-list' }, c.posts.map(postLine)));
  return h('ul', { class: 'chat-list team-chats', testid },
    groups.map((g) => h('li', { class: 'team-chat', testid: 'team-chat', 'data-team': g.team },
      h('h3', {}, teamName(g.team)),
      g.channels.length
        ? h('ul', { class: 'chat-post-list' }, g.channels.map(channelLine))
        : h('p', { class: 'muted', testid: 'team-chat-nochannel' }, t('chat.teamNoChannel')))));
}

// teamChatGroups turns the posts of GET /api/v1/incidents/{id}/chat-posts (newest first)
// into teamChatsList's groups: the team chats' posts only, oldest first per channel.
export function teamChatGroups(posts) {
  const teams = new Map();
  for (const p of [...posts].reverse()) {
    if (p.kind !== 'teams' && p.kind !== 'slack') continue;
    if (!teams.has(p.team)) teams.set(p.team, new Map());
    const chans = teams.get(p.team);
    if (!chans.has(p.subscription)) chans.set(p.subscription, { subscription: p.subscription, name: p.name, kind: p.kind, posts: [] });
    const last = (p.attempts || [])[p.attempts.length - 1];
    chans.get(p.subscription).posts.push({ title: p.title, status: p.status, at: p.sent_at || p.created_at, answer: last?.reason || '', error: p.error });
  }
  return [...teams].map(([team, chans]) => ({ team, channels: [...chans.values()] }));
}

const incChats = { key: null, id: null, posts: null, error: null, tick: 0 };

// teamChatsSignature is what the incident page's card depends on: the incident, its
// timeline's length (a new event may have been posted) and the posts loaded.
export function teamChatsSignature(inc) {
  return [inc.id, (inc.timeline || []).length, incChats.tick, incChats.posts, incChats.error, can('responder'), state.lang];
}

// teamChatsCard is the incident page's "Chats de los equipos": what each team's chat
// channel was sent about the incident, with the service's answer or the error. It loads
// the posts again when the timeline grows; redraw is called once they arrive.
export function teamChatsCard(inc, redraw) {
  if (!can('responder')) return null;
  if (incChats.id !== inc.id) Object.assign(incChats, { id: inc.id, posts: null, error: null, tick: 0 });
  const key = `${inc.id}:${(inc.timeline || []).length}:${incChats.tick}`;
  if (incChats.key !== key) {
    incChats.key = key;
    api('GET', `incidents/${encodeURIComponent(inc.id)}/chat-posts`).then((posts) => {
      if (incChats.id !== inc.id) return;
      incChats.posts = posts || [];
      incChats.error = null;
      // A post still queued or being sent: look again shortly (only while the page is
      // open: redraw draws nothing otherwise, so nothing is fetched).
      if (incChats.posts.some((p) => p.status === 'queued' || p.status === 'sending')) {
        setTimeout(() => { if (incChats.id === inc.id) { incChats.tick += 1; redraw(); } }, 5000);
      }
      redraw();
    }, (e) => {
      if (incChats.id !== inc.id) return;
      incChats.error = errorText(e);
      redraw();
    });
  }
  const groups = incChats.posts ? teamChatGroups(incChats.posts) : [];
  if (incChats.posts && !groups.length) return null; // no team chat got anything: nothing to show
  return h('section', { class: 'card', testid: 'incident-team-chats', 'aria-labelledby': 'inc-chats-title' },
    h('h2', { id: 'inc-chats-title' }, t('chat.teamPosts')),
    h('p', { class: 'hint' }, t('chat.teamPostsLead')),
    incChats.error ? h('p', { class: 'error', role: 'alert' }, incChats.error)
      : incChats.posts == null ? h('p', { class: 'loading' }, t('loading')) : teamChatsList(groups));
}

export function forgetTeamChats() {
  Object.assign(incChats, { key: null, id: null, posts: null, error: null, tick: 0 });
}

// readinessNotes is what the readiness page says of the team chats and webhooks whose
// endpoint is gone (chat_broken) and of the people whose email bounced (email_bounced),
// from GET /api/v1/readiness; null when there is nothing to say.
export function readinessNotes(data) {
  const broken = Array.isArray(data?.chat_broken) ? data.chat_broken : [];
  const bounced = Array.isArray(data?.email_bounced) ? data.email_bounced : [];
  if (!broken.length && !bounced.length) return null;
  return h('section', { class: 'alert alert-warn', testid: 'ready-reach-notes' },
    broken.length ? [
      h('h2', {}, t('chat.ready.broken', { n: broken.length })),
      h('ul', { testid: 'ready-chat-broken' }, broken.map((s) => h('li', { 'data-id': s.id },
        h('strong', {}, s.name), ` (${t(`chat.kind.${s.kind}`)}${s.team ? ` · ${teamName(s.team)}` : ''}): ${s.broken_reason || ''}`))),
      can('manager') ? h('p', {}, h('a', { class: 'btn', href: '#/chats', testid: 'ready-chat-fix' }, t('chat.ready.fix'))) : null,
    ] : null,
    bounced.length ? [
      h('h2', {}, t('chat.ready.bounced', { n: bounced.length })),
      h('ul', { testid: 'ready-email-bounced' }, bounced.map((b) => h('li', { 'data-person-id': b.person_id },
        h('a', { href: `#/directorio/personas/${encodeURIComponent(b.person_id)}` }, b.name), ` · ${b.email}: ${b.status}${b.diagnostic ? ` (${b.diagnostic})` : ''}`))),
      h('p', {}, t('chat.ready.bouncedHelp')),
    ] : null);
}
