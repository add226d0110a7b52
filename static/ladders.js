// OPTIMUM BCP web app: the escalation ladders, #/escaleras (managers and admins).
//
// Each ladder is shown as its steps read aloud (who, on which channels, how long before
// the next step); "Editar" opens its JSON as GET /api/v1/ladders/{id} answers it, and
// saving sends it back: the server checks it with every other ladder and the directory
// and, when it refuses, lists each problem next to the editor and changes nothing.

import { state, t, h, api, show, ProblemError, errorText, teamName, fmtDuration, tn } from './core.js';


const page = { list: null, error: null, editing: null, text: '', problems: [], detail: null, saving: false, notice: null };

const example = {
  id: 'nueva', name: { es: 'Nueva escalera', en: 'New ladder' }, priorities: ['P3'], services: [], repeat: 0, then: '',
  steps: [{ targets: [{ team: 'technology', roles: ['lead'] }], reminders: [{ after: '0s', channels: ['webpush', 'sms'] }], wait: '30m', owned: 'any' }],
};

function dur(s) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(String(s || ''));
  if (!m) return String(s);
  const ms = ((+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0)) * 1000;
  return ms ? fmtDuration(ms) : null;
}

function target(x) {
  if (x.team) return teamName(x.team) + (x.roles?.length ? ` ${t('lad.roles', { roles: x.roles.map((r) => t(`trole.${r}`)).join(', ') })}` : '');
  if (x.service) return t('lad.service', { id: x.service });
  if (x.person) return x.person;
  if (x.managers_of_paged) return t('lad.managers');
  return '?';
}

function owned(o) {
  if (!o || o === 'any') return t('lad.owned.any');
  if (o === 'all') return t('lad.owned.all');
  return tn('lad.owned', o);
}

function ladderCard(l) {
  const name = (state.lang === 'en' ? l.name?.en : l.name?.es) || l.id;
  return h('article', { class: 'card ladder', testid: 'ladder', 'data-id': l.id },
    h('h2', {}, name, ' ', h('code', { class: 'muted' }, l.id)),
    h('p', { class: 'muted' }, `${t('lad.priorities')}: ${(l.priorities || []).join(', ') || t('lad.any')} · `,
      `${t('lad.services')}: ${(l.services || []).join(', ') || t('lad.any')} · ${t(`lad.source.${l.source}`)}`),
    h('ol', { class: 'ladder-steps' }, (l.steps || []).map((s, i) => h('li', { testid: 'ladder-step' },
      h('strong', {}, t('lad.stepN', { n: i + 1 })), ' — ', `${t('lad.targets')}: ${(s.targets || []).map(target).join(', ')}`, '. ',
      `${t('lad.reminders')}: ${(s.reminders || []).map((r) => `${(r.channels || []).map((c) => t(`chan.${c}`)).join(' + ')} ${dur(r.after) ? t('lad.after', { d: dur(r.after) }) : t('lad.atOnce')}`).join('; ')}. `,
      owned(s.owned), '. ',
      dur(s.wait) ? t('lad.wait', { d: dur(s.wait) }) : t('lad.waitLast')))),
    l.repeat ? h('p', {}, tn('lad.repeat', l.repeat)) : null,
    l.then ? h('p', {}, t('lad.then', { id: l.then })) : null,
    h('button', { type: 'button', class: 'btn', testid: 'ladder-edit', onclick: () => edit(l) }, t('lad.edit')));
}

function edit(l) {
  const { source, updated_at, updated_by, ...doc } = l || example;
  Object.assign(page, { editing: l ? l.id : '', text: JSON.stringify(doc, null, 2), problems: [], detail: null, notice: null });
  renderLadders();
}

async function save(isNew) {
  let doc;
  try {
    doc = JSON.parse(page.text);
  } catch (e) {
    page.detail = t('lad.badJSON', { msg: e.message });
    page.problems = [];
    renderLadders();
    return;
  }
  page.saving = true;
  renderLadders();
  try {
    if (isNew) await api('POST', 'ladders', { body: doc });
    else await api('PUT', `ladders/${encodeURIComponent(page.editing)}`, { body: doc });
    Object.assign(page, { editing: null, problems: [], detail: null, notice: t('lad.saved') });
    await load();
  } catch (e) {
    page.detail = errorText(e);
    page.problems = e instanceof ProblemError ? e.problem.errors : [];
  } finally {
    page.saving = false;
  }
  renderLadders();
}

async function remove(id) {
  try {
    await api('DELETE', `ladders/${encodeURIComponent(id)}`);
    page.editing = null;
    await load();
  } catch (e) {
    page.detail = errorText(e);
  }
  renderLadders();
}

function editor() {
  const isNew = page.editing === '';
  const area = h('textarea', {
    class: 'code', rows: 24, spellcheck: 'false', testid: 'ladder-json', 'aria-label': t('lad.edit'),
    oninput: (ev) => { page.text = ev.target.value; },
  });
  area.value = page.text;
  return h('section', { class: 'card ladder-editor', testid: 'ladder-editor' },
    h('h2', {}, isNew ? t('lad.new') : `${t('lad.edit')}: ${page.editing}`),
    area,
    page.detail ? h('div', { class: 'alert alert-error', role: 'alert', testid: 'ladder-problem' },
      h('p', {}, page.detail),
      page.problems.length ? h('ul', {}, page.problems.map((p) => h('li', { testid: 'ladder-problem-item' }, h('code', {}, p.field), ': ', p.message))) : null) : null,
    h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-primary', testid: 'ladder-save', disabled: page.saving, onclick: () => save(isNew) },
        page.saving ? t('lad.saving') : t('lad.save')),
      ' ',
      h('button', { type: 'button', class: 'btn', testid: 'ladder-cancel', onclick: () => { page.editing = null; renderLadders(); } }, t('lad.cancel')),
      ' ',
      isNew ? null : h('button', { type: 'button', class: 'btn btn-danger', testid: 'ladder-delete', onclick: () => remove(page.editing) }, t('lad.delete'))));
}

async function load() {
  try {
    page.list = await api('GET', 'ladders');
    page.error = null;
  } catch (e) {
    page.error = errorText(e);
  }
}

export function forgetLadders() {
  Object.assign(page, { list: null, error: null, editing: null, text: '', problems: [], detail: null, saving: false, notice: null });
}

// renderLadders draws the page, loading the ladders the first time.
export function renderLadders() {
  if (page.list == null && page.error == null) {
    load().then(() => renderLadders());
  }
  show(h('section', { class: 'page page-wide ladders', testid: 'ladders' },
    h('h1', {}, t('lad.title')),
    h('p', { class: 'lead' }, t('lad.lead')),
    page.notice ? h('p', { class: 'alert alert-ok', role: 'status', testid: 'ladder-notice' }, page.notice) : null,
    page.error ? h('p', { class: 'alert alert-error', role: 'alert' }, page.error) : null,
    page.editing != null ? editor() : h('p', {},
      h('button', { type: 'button', class: 'btn btn-primary', testid: 'ladder-new', onclick: () => { edit(null); page.editing = ''; page.text = JSON.stringify(example, null, 2); renderLadders(); } }, t('lad.new'))),
    page.list == null ? h('p', { class: 'loading' }, t('loading'))
      : page.list.length ? page.list.map(ladderCard) : h('p', { class: 'muted' }, t('lad.empty'))));
}
