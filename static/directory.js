// OPTIMUM BCP web app: the directory (people, teams, services, import and export), the
// readiness view, "my profile", and the reachability of an audience shown while
// declaring a crisis.
//
// Routes (all under the hash):
//   #/directorio                     people, searchable and filterable, paged
//   #/directorio/personas/nueva      a new person
//   #/directorio/personas/<id>       edit a person
//   #/directorio/equipos             teams
//   #/directorio/servicios           services
//   #/directorio/importar            CSV / YAML import (dry run, then confirm) and export
//   #/directorio/preparacion         readiness: who can be reached, overall and per team
//   #/directorio/sitios              sites, and who and which teams are at each (org.js)
//   #/directorio/accesos             admins: users, their roles and limits (org.js)
//   #/perfil                         the signed-in user's own profile (in channels.js, the
//                                    phone verification and this browser's alerts; in
//                                    account.js, the change of password)

import {
  state, t, h, $, show, view, api, ProblemError, errorText, hashParts, can, nav,
  fmtDuration, teamName, tn, userName,
} from './core.js';
import { readinessNotes } from './chat.js'; // issue 17
import { passwordCard, hasPassword } from './account.js';
import { pushCard, phoneCard } from './channels.js';
// org.js (sites, access and scope: admin pages) loads the first time one of its pages or
// cards is needed: it is not on the board's path, and a phone's cold load stays within
// its budget (test/browser/load.test.mjs).
let orgModule = null;
let orgLoading = null;
function withOrg(then) {
  if (orgModule) return then(orgModule);
  if (!orgLoading) {
    orgLoading = import('./org.js').then((m) => { orgModule = m; return m; }, (err) => { orgLoading = null; throw err; });
  }
  return orgLoading.then(then);
}
function renderSites(frame) { return withOrg((m) => m.renderSites(frame)); }
function renderAccess(frame) { return withOrg((m) => m.renderAccess(frame)); }
function scopeCard(user, teams, redraw, reload) {
  if (orgModule) return orgModule.scopeCard(user, teams, redraw, reload);
  // Filled in place when org.js comes: redrawing the whole person form then would pull
  // it from under someone using it.
  const slot = h('div', { class: 'scope-slot' });
  withOrg((m) => {
    const card = m.scopeCard(user, teams, redraw, reload);
    if (!slot.isConnected) return;
    if (card) slot.replaceWith(card);
    else slot.remove();
  }).catch(() => {});
  return slot;
}
function forgetOrg() { orgModule?.forgetOrg(); }

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 250;
const REACH_DELAY_MS = 200;
const REACH_FRESH_MS = 30_000;
const TEAM_ROLES = ['lead', 'member', 'backup'];
const PERSON_FIELDS = ['name', 'email', 'phone', 'language', 'time_zone', 'manager_email', 'external_id', 'teams', 'sites'];
const SVG_NS = 'http://www.w3.org/2000/svg';

const dir = {
  teams: null, // [{id, name_es, name_en, active, members}]
  teamsNav: -1,
  services: null,
  servicesNav: -1,
  people: { nav: -1, list: [], next: null, loading: false, error: null, seq: 0, loadedQuery: null },
  filters: { q: '', team: '', active: '' },
  notice: null, // {text, nav}: a message shown once after a change
  form: null, // the person form
  teamForm: null,
  teamEdit: null, // {id, draft, fieldErrors, problem, saving}
  serviceForm: null,
  serviceEdit: null,
  import: null,
  readiness: { nav: -1, data: null, error: null, loading: false },
  profile: { nav: -1, person: null, missing: null, error: null, loading: false, draft: null, fieldErrors: {}, problem: null, saving: false, saved: false },
};

// ---------------------------------------------------------------- small helpers

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

function locale() { return state.lang === 'es' ? 'es-MX' : 'en-GB'; }

function pct(share) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(Number(share) || 0);
}

function ago(iso) {
  const ts = Date.parse(iso);
  if (!Number.isFinite(ts)) return '';
  return t('ago', { d: fmtDuration(Date.now() - ts) });
}

// dirTeamName names a team from the directory's list, else from the meta, else its id.
function dirTeamName(id) {
  const team = dir.teams?.find((x) => x.id === id);
  if (team) return (state.lang === 'en' ? team.name_en : team.name_es) || team.name_es || team.name_en || id;
  return teamName(id);
}

function reachName(r) {
  if (!r.team && !r.site) return t('ready.overall');
  return (state.lang === 'en' ? r.name_en : r.name_es) || r.name_es || r.name_en || dirTeamName(r.team);
}

function reasonText(reason) {
  if (reason === 'phone not verified') return t('reason.phoneUnverified');
  if (reason === 'no phone and no subscribed browser') return t('reason.noChannel');
  return reason || '';
}

function slugify(s) {
  return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

// fieldErrorsOf sorts a problem's errors by field: a top-level field name ("teams[0]"
// stays whole, so a row can show its own message), the rest in `extra`.
function fieldErrorsOf(problem, known) {
  const fields = {};
  const extra = [];
  for (const e of problem.errors || []) {
    const field = String(e.field || '');
    const msg = e.message || String(e);
    const base = field.split(/[.[]/)[0];
    if (known.includes(base)) fields[field] = fields[field] ? `${fields[field]} ${msg}` : msg;
    else extra.push(field ? `${field}: ${msg}` : msg);
  }
  return { fields, extra };
}

function errorLine(id, msg, testid) {
  return h('p', { class: 'field-error', id, testid, hidden: !msg, role: msg ? 'alert' : null }, msg || '');
}

function problemBox(problem, extra = [], testid = 'dir-form-error') {
  if (!problem) return null;
  return h('div', { class: 'alert alert-error', role: 'alert', testid },
    h('p', {}, problem),
    extra.length ? h('ul', {}, extra.map((x) => h('li', {}, x))) : null);
}

function noticeBox() {
  const n = dir.notice;
  if (!n) return null;
  if (n.nav !== nav.seq) { dir.notice = null; return null; }
  return h('p', { class: 'alert alert-ok', role: 'status', testid: 'dir-notice' }, n.text);
}

function setNotice(text) {
  // The notice is for the page the next navigation opens.
  dir.notice = { text, nav: nav.seq + 1 };
}

// showNoticeNow shows a message on the page already drawn (and keeps it if it is redrawn).
function showNoticeNow(text) {
  dir.notice = { text, nav: nav.seq };
  const box = $('[data-testid="dir-notice"]', view());
  if (box) box.textContent = text;
  else {
    const el = noticeBox();
    if (el) $('.subtabs', view())?.after(el);
  }
}

function onRoute(path) { return hashParts().path === path; }

// confirmDialog asks a yes/no question in a modal <dialog>; resolves true on yes.
function confirmDialog({ title, body, ok, danger = false }) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'dialog', testid: 'confirm-dialog', 'aria-labelledby': 'dialog-title' });
    const close = (answer) => {
      dlg.close();
      dlg.remove();
      resolve(answer);
    };
    append2(dlg,
      h('h2', { id: 'dialog-title' }, title),
      body ? h('p', {}, body) : null,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', testid: 'confirm-cancel', onclick: () => close(false) }, t('dir.cancel')),
        h('button', { type: 'button', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`, testid: 'confirm-ok', onclick: () => close(true) }, ok)));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(false); });
    document.body.append(dlg);
    dlg.showModal();
    $('[data-testid="confirm-ok"]', dlg).focus();
  });
}

function append2(el, ...children) {
  for (const c of children) if (c) el.append(c);
  return el;
}

// ---------------------------------------------------------------- shared loads

async function loadTeams(force = false) {
  if (!force && dir.teams && dir.teamsNav === nav.seq) return dir.teams;
  const list = await api('GET', 'teams');
  dir.teams = Array.isArray(list) ? list : [];
  dir.teamsNav = nav.seq;
  return dir.teams;
}

async function loadServices(force = false) {
  if (!force && dir.services && dir.servicesNav === nav.seq) return dir.services;
  const list = await api('GET', 'services');
  dir.services = Array.isArray(list) ? list : [];
  dir.servicesNav = nav.seq;
  return dir.services;
}

// ---------------------------------------------------------------- page frame

const TABS = [
  { key: 'people', path: 'directorio', label: 'dir.tab.people', role: 'responder' },
  { key: 'teams', path: 'directorio/equipos', label: 'dir.tab.teams', role: 'responder' },
  { key: 'services', path: 'directorio/servicios', label: 'dir.tab.services', role: 'responder' },
  { key: 'sites', path: 'directorio/sitios', label: 'dir.tab.sites', role: 'responder' },
  { key: 'import', path: 'directorio/importar', label: 'dir.tab.import', role: 'manager' },
  { key: 'readiness', path: 'directorio/preparacion', label: 'dir.tab.readiness', role: 'manager' },
  { key: 'access', path: 'directorio/accesos', label: 'dir.tab.access', role: 'admin' },
];

function frame(active, ...content) {
  const tabs = TABS.filter((x) => can(x.role));
  return h('section', { class: 'page page-wide dir', testid: 'directory' },
    h('h1', { testid: 'dir-heading' }, t('dir.title')),
    h('nav', { class: 'subtabs', 'aria-label': t('dir.tabs') },
      tabs.map((x) => h('a', {
        class: 'subtab', href: `#/${x.path}`, testid: `dir-tab-${x.key}`,
        'aria-current': x.key === active ? 'page' : null,
      }, t(x.label)))),
    noticeBox(),
    ...content);
}

function denied() {
  return h('section', { class: 'card narrow', testid: 'dir-denied' },
    h('h1', {}, t('dir.title')),
    h('p', { class: 'lead' }, t('dir.denied')));
}

// renderDirectory draws the directory page the hash names.
export function renderDirectory() {
  const path = hashParts().path;
  const sub = path.split('/').slice(1);
  const needed = sub[0] === 'accesos' ? 'admin'
    : sub[0] === 'importar' || sub[0] === 'preparacion' || (sub[0] === 'personas') ? 'manager' : 'responder';
  if (!can(needed)) {
    show(denied());
    return;
  }
  if (sub[0] === 'personas' && sub[1]) renderPersonForm(sub[1] === 'nueva' ? null : decodeURIComponent(sub[1]));
  else if (sub[0] === 'equipos') renderTeams();
  else if (sub[0] === 'servicios') renderServices();
  else if (sub[0] === 'importar') renderImport();
  else if (sub[0] === 'preparacion') renderReadiness();
  else if (sub[0] === 'sitios') renderSites(frame);
  else if (sub[0] === 'accesos') renderAccess(frame);
  else renderPeople();
}

// ---------------------------------------------------------------- people list

let peopleEls = null;
let searchTimer = 0;

function peopleQuery(after) {
  const q = new URLSearchParams();
  const f = dir.filters;
  if (f.q.trim()) q.set('q', f.q.trim());
  if (f.team) q.set('team', f.team);
  if (f.active) q.set('active', f.active);
  q.set('limit', String(PAGE_SIZE));
  if (after) q.set('after', after);
  return q.toString();
}

function nextLink(headers) {
  const link = headers.get('Link') || '';
  for (const part of link.split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?next"?/i);
    if (m) return new URL(m[1], location.href).toString();
  }
  return null;
}

async function loadPeople({ more = false } = {}) {
  const p = dir.people;
  const seq = ++p.seq;
  const query = peopleQuery();
  const q = dir.filters.q.trim();
  p.loading = true;
  p.error = null;
  updatePeople();
  try {
    const url = more && p.next ? p.next : `people?${query}`;
    const { data, headers } = await api('GET', url, { withHeaders: true });
    if (seq !== p.seq) return;
    const list = Array.isArray(data) ? data : [];
    p.list = more ? [...p.list, ...list] : list;
    p.next = nextLink(headers);
    p.loadedQuery = query;
    p.loadedQ = q;
    p.nav = nav.seq;
  } catch (err) {
    if (seq !== p.seq) return;
    if (err instanceof ProblemError && err.status === 401) return;
    p.error = errorText(err);
  } finally {
    if (seq === p.seq) p.loading = false;
  }
  updatePeople();
}

function renderPeople() {
  const f = dir.filters;
  const search = h('input', {
    type: 'search', id: 'dir-q', class: 'input', testid: 'dir-search', autocomplete: 'off',
    placeholder: t('dir.search.placeholder'), 'aria-label': t('dir.search'),
    oninput: (e) => {
      f.q = e.target.value;
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => loadPeople(), SEARCH_DELAY_MS);
    },
  });
  search.value = f.q;
  const teamSelect = h('select', {
    id: 'dir-team', class: 'input', testid: 'dir-team',
    onchange: (e) => { f.team = e.target.value; loadPeople(); },
  },
  h('option', { value: '' }, t('dir.filter.allTeams')),
  (dir.teams || []).map((x) => h('option', { value: x.id, selected: f.team === x.id }, dirTeamName(x.id))));
  const activeSelect = h('select', {
    id: 'dir-active', class: 'input', testid: 'dir-active',
    onchange: (e) => { f.active = e.target.value; loadPeople(); },
  },
  [['', 'dir.filter.all'], ['true', 'dir.filter.active'], ['false', 'dir.filter.inactive']].map(([v, k]) =>
    h('option', { value: v, selected: f.active === v }, t(k))));

  peopleEls = {
    status: h('p', { class: 'count', testid: 'people-count', 'aria-live': 'polite' }),
    error: h('p', { class: 'alert alert-error', role: 'alert', testid: 'people-error', hidden: true }),
    body: h('tbody', {}),
    table: null,
    empty: h('p', { class: 'empty', testid: 'people-empty', hidden: true }, t('dir.people.empty')),
    more: h('button', { type: 'button', class: 'btn btn-block', testid: 'people-more', hidden: true, onclick: () => loadPeople({ more: true }) }, t('dir.more')),
  };
  peopleEls.table = h('table', { class: 'dtable people', testid: 'people-list' },
    h('caption', { class: 'sr-only' }, t('dir.tab.people')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('p.name')),
      h('th', { scope: 'col' }, t('p.phone')),
      h('th', { scope: 'col' }, t('p.language')),
      h('th', { scope: 'col' }, t('p.teams')),
      h('th', { scope: 'col' }, t('p.state')),
      h('th', { scope: 'col' }, t('p.channels')),
      can('manager') ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('dir.actions'))) : null)),
    peopleEls.body);

  show(frame('people',
    h('div', { class: 'toolbar' },
      h('div', { class: 'tool tool-search' }, h('label', { for: 'dir-q', class: 'label' }, t('dir.search')), search),
      h('div', { class: 'tool' }, h('label', { for: 'dir-team', class: 'label' }, t('p.team')), teamSelect),
      h('div', { class: 'tool' }, h('label', { for: 'dir-active', class: 'label' }, t('p.state')), activeSelect),
      can('manager') ? h('div', { class: 'tool tool-actions' },
        h('a', { class: 'btn btn-primary', href: '#/directorio/personas/nueva', testid: 'person-new' }, t('dir.person.new')),
        h('a', { class: 'btn', href: 'api/v1/people/export', download: 'directorio.csv', testid: 'export-csv' }, t('dir.export'))) : null),
    !can('manager') ? h('p', { class: 'muted', testid: 'dir-readonly' }, t('dir.readonly')) : null,
    peopleEls.status,
    peopleEls.error,
    peopleEls.table,
    peopleEls.empty,
    peopleEls.more));

  updatePeople();
  const fresh = dir.people.nav === nav.seq && dir.people.loadedQuery === peopleQuery();
  if (!fresh && !dir.people.loading) loadPeople();
  if (!dir.teams || dir.teamsNav !== nav.seq) {
    loadTeams(true).then(() => {
      if (onRoute('directorio') && teamSelect.isConnected) {
        // Fill the team filter without redrawing the search box being typed in.
        teamSelect.replaceChildren(h('option', { value: '' }, t('dir.filter.allTeams')),
          ...dir.teams.map((x) => h('option', { value: x.id, selected: f.team === x.id }, dirTeamName(x.id))));
        updatePeople();
      }
    }).catch(() => { /* the list still works with team ids */ });
  }
}

function updatePeople() {
  const els = peopleEls;
  if (!els || !els.table.isConnected) return;
  const p = dir.people;
  els.table.dataset.state = p.loading ? 'loading' : 'ready';
  // The search the rows answer (not what is typed while its answer is on the way).
  els.table.dataset.q = p.loadedQ ?? '';
  els.error.hidden = !p.error;
  els.error.textContent = p.error || '';
  const n = p.list.length;
  els.status.dataset.count = String(n);
  els.status.textContent = p.loading && n === 0 ? t('loading')
    : p.next ? t('dir.people.countMore', { n }) : tn('people', n);
  els.empty.hidden = p.loading || n > 0 || !!p.error;
  const filtered = !!(dir.filters.q.trim() || dir.filters.team || dir.filters.active);
  els.empty.textContent = filtered ? t('dir.people.empty') : t('dir.people.none');
  els.table.hidden = n === 0;
  els.more.hidden = !p.next;
  els.more.disabled = p.loading;
  els.body.replaceChildren(...p.list.map(personRow));
}

function membershipChips(person) {
  const ms = Array.isArray(person.memberships) && person.memberships.length
    ? person.memberships : (person.teams || []).map((team) => ({ team, role: 'member' }));
  if (!ms.length) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'chips' }, ms.map((m) => h('li', { class: `chip chip-${m.role}` },
    dirTeamName(m.team), h('span', { class: 'chip-role' }, ` · ${t(`trole.${m.role}`)}`))));
}

// channelBadges shows how ready a person is to be reached: phone verified or not,
// SMS opted out, subscribed browsers, and when a message last reached them.
function channelBadges(person) {
  const c = person.channels || {};
  const out = [];
  if (!person.phone) out.push(h('span', { class: 'cb cb-none', testid: 'ch-phone', 'data-state': 'none' }, t('ch.phone.none')));
  else if (c.phone_verified_at) out.push(h('span', { class: 'cb cb-ok', testid: 'ch-phone', 'data-state': 'verified', title: ago(c.phone_verified_at) }, `✓ ${t('ch.phone.verified')}`));
  else out.push(h('span', { class: 'cb cb-warn', testid: 'ch-phone', 'data-state': 'unverified' }, t('ch.phone.unverified')));
  if (c.sms_opted_out_at) out.push(h('span', { class: 'cb cb-bad', testid: 'ch-stop', title: ago(c.sms_opted_out_at) }, t('ch.sms.stop')));
  const n = Number(c.push_subscriptions) || 0;
  out.push(n > 0
    ? h('span', { class: 'cb cb-ok', testid: 'ch-push', 'data-count': String(n) }, `✓ ${tn('browsers', n)}`)
    : h('span', { class: 'cb cb-none', testid: 'ch-push', 'data-count': '0' }, t('ch.push0')));
  out.push(h('span', { class: 'cb-when', testid: 'ch-last' }, c.last_reached_at ? t('ch.last', { ago: ago(c.last_reached_at) }) : t('ch.never')));
  return h('div', { class: 'cbs' }, out);
}

function stateBadge(person) {
  return h('span', { class: `state ${person.active ? 'state-on' : 'state-off'}`, testid: 'person-state', 'data-active': String(!!person.active) },
    person.active ? t('p.active') : t('p.inactive'));
}

function personRow(person) {
  const manager = can('manager');
  return h('tr', {
    class: person.active ? 'prow' : 'prow prow-off', testid: 'person-row',
    'data-id': person.id, 'data-email': person.email, 'data-active': String(!!person.active),
  },
  h('td', { class: 'cell-name', 'data-label': t('p.name') },
    h('strong', { testid: 'person-name' }, person.name),
    h('span', { class: 'sub', testid: 'person-email' }, person.email),
    person.external_id ? h('span', { class: 'sub' }, `${t('p.external_id')}: ${person.external_id}`) : null),
  h('td', { class: 'nowrap', 'data-label': t('p.phone'), testid: 'person-phone' }, person.phone || h('span', { class: 'muted' }, '—')),
  h('td', { 'data-label': t('p.language'), testid: 'person-language' }, (person.language || '').toUpperCase()),
  h('td', { 'data-label': t('p.teams') }, membershipChips(person)),
  h('td', { class: 'nowrap', 'data-label': t('p.state') }, stateBadge(person)),
  h('td', { 'data-label': t('p.channels') }, channelBadges(person)),
  manager ? h('td', { class: 'cell-actions' }, h('div', { class: 'row-actions' },
    h('a', { class: 'btn btn-small', href: `#/directorio/personas/${encodeURIComponent(person.id)}`, testid: 'person-edit' }, t('dir.edit')),
    toggleButton(person, (updated) => {
      const i = dir.people.list.findIndex((x) => x.id === updated.id);
      if (i >= 0) dir.people.list[i] = updated;
      updatePeople();
    }))) : null);
}

// toggleButton deactivates or reactivates a person after a confirmation.
function toggleButton(person, onDone, { block = false } = {}) {
  const deactivate = !!person.active;
  const btn = h('button', {
    type: 'button', class: `btn btn-small ${deactivate ? 'btn-warn' : ''} ${block ? 'btn-block' : ''}`, testid: 'person-toggle',
    onclick: async () => {
      const ok = await confirmDialog({
        title: t(deactivate ? 'dir.deactivate.q' : 'dir.activate.q', { name: person.name }),
        body: t(deactivate ? 'dir.deactivate.body' : 'dir.activate.body'),
        ok: t(deactivate ? 'dir.deactivate' : 'dir.activate'),
        danger: deactivate,
      });
      if (!ok) return;
      btn.disabled = true;
      try {
        const updated = await api('POST', `people/${encodeURIComponent(person.id)}/${deactivate ? 'deactivate' : 'activate'}`);
        onDone(updated);
        showNoticeNow(t(deactivate ? 'dir.deactivated' : 'dir.activated', { name: updated.name }));
      } catch (err) {
        btn.disabled = false;
        if (err instanceof ProblemError && err.status === 401) return;
        const box = $('[data-testid="people-error"]', view());
        if (box) { box.hidden = false; box.textContent = errorText(err); }
      }
    },
  }, deactivate ? t('dir.deactivate') : t('dir.activate'));
  return btn;
}

// ---------------------------------------------------------------- person form

function emptyDraft() {
  return { name: '', email: '', phone: '', language: state.lang, time_zone: '', manager_email: '', external_id: '', teams: [], sites: [] };
}

async function loadPersonForm(id) {
  const f = { id, nav: nav.seq, loading: true, loadError: null, person: null, draft: emptyDraft(), fieldErrors: {}, problem: null, extra: [], saving: false };
  dir.form = f;
  try {
    await loadTeams();
    if (id) {
      const person = await api('GET', `people/${encodeURIComponent(id)}`);
      let managerEmail = '';
      if (person.manager_id) {
        try { managerEmail = (await api('GET', `people/${encodeURIComponent(person.manager_id)}`)).email || ''; } catch { /* left empty */ }
      }
      f.person = person;
      f.draft = {
        name: person.name || '', email: person.email || '', phone: person.phone || '', language: person.language || 'es',
        time_zone: person.time_zone || '', manager_email: managerEmail, external_id: person.external_id || '',
        teams: (person.memberships || []).map((m) => ({ team: m.team, role: m.role || 'member' })),
        sites: Array.isArray(person.sites) ? [...person.sites] : [],
      };
    }
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    f.loadError = errorText(err);
  }
  f.loading = false;
  if (dir.form === f && hashParts().path.startsWith('directorio/personas/')) renderPersonForm(id);
}

function renderPersonForm(id) {
  let f = dir.form;
  // A fresh visit starts from the stored person; a redraw (a new language, an answer
  // from the server) keeps what was typed.
  if (!f || f.id !== id || (f.nav !== nav.seq && !f.saving)) {
    loadPersonForm(id);
    f = dir.form;
  }
  const title = id ? t('dir.person.edit') : t('dir.person.new');
  if (f.loading) {
    show(frame('people', h('h2', {}, title), h('p', { class: 'loading' }, t('loading'))));
    return;
  }
  if (f.loadError) {
    show(frame('people', h('h2', {}, title),
      h('p', { class: 'alert alert-error', role: 'alert', testid: 'dir-form-error' }, f.loadError),
      h('a', { class: 'btn', href: '#/directorio' }, t('dir.back'))));
    return;
  }
  const d = f.draft;
  const touched = (name) => {
    f.dirty = true;
    if (f.fieldErrors[name]) {
      delete f.fieldErrors[name];
      const el = $(`#perr-${name}`, view());
      if (el) { el.hidden = true; el.textContent = ''; }
      $(`#pf-${name}`, view())?.removeAttribute('aria-invalid');
    }
  };

  const field = (name, { type = 'text', required = false, hint, list, inputmode, autocomplete = 'off' } = {}) => {
    const input = h('input', {
      id: `pf-${name}`, name, type, class: 'input', testid: `pf-${name}`, autocomplete, inputmode, list,
      required, 'aria-describedby': `${hint ? `phint-${name} ` : ''}perr-${name}`,
      'aria-invalid': f.fieldErrors[name] ? 'true' : null,
      oninput: (e) => { d[name] = e.target.value; touched(name); },
    });
    input.value = d[name] || '';
    return h('div', { class: 'field', 'data-field': name },
      h('label', { for: `pf-${name}`, class: 'label' }, t(`p.${name}`), required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      hint ? h('p', { class: 'hint', id: `phint-${name}` }, hint) : null,
      input,
      errorLine(`perr-${name}`, f.fieldErrors[name], `perr-${name}`));
  };

  const language = h('div', { class: 'field', 'data-field': 'language' },
    h('label', { for: 'pf-language', class: 'label' }, t('p.language')),
    h('p', { class: 'hint', id: 'phint-language' }, t('p.language.hint')),
    h('select', {
      id: 'pf-language', class: 'input', testid: 'pf-language', 'aria-describedby': 'phint-language perr-language',
      'aria-invalid': f.fieldErrors.language ? 'true' : null,
      onchange: (e) => { d.language = e.target.value; touched('language'); },
    },
    h('option', { value: 'es', selected: d.language === 'es' }, 'Español'),
    h('option', { value: 'en', selected: d.language === 'en' }, 'English')),
    errorLine('perr-language', f.fieldErrors.language, 'perr-language'));

  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { zones = ['America/Mexico_City', 'Europe/Madrid', 'UTC']; }
  const managers = dir.people.list.filter((p) => p.email && p.email !== d.email);

  const teamsBox = h('div', { class: 'team-rows' });
  const drawTeams = () => {
    teamsBox.replaceChildren(...d.teams.map((m, i) => teamRow(f, m, i, drawTeams)));
    if (!d.teams.length) teamsBox.append(h('p', { class: 'muted' }, t('p.teams.none')));
  };
  drawTeams();
  const teams = h('fieldset', { class: 'field', 'data-field': 'teams', testid: 'pf-teams', 'aria-describedby': 'perr-teams' },
    h('legend', { class: 'label' }, t('p.teams')),
    h('p', { class: 'hint' }, t('p.teams.hint')),
    teamsBox,
    h('button', {
      type: 'button', class: 'btn btn-small', testid: 'pf-team-add',
      onclick: () => {
        const used = new Set(d.teams.map((x) => x.team));
        const free = (dir.teams || []).find((x) => x.active !== false && !used.has(x.id));
        d.teams.push({ team: free ? free.id : '', role: 'member' });
        f.dirty = true;
        drawTeams();
        $(`#pf-team-${d.teams.length - 1}`, view())?.focus();
      },
    }, `+ ${t('p.teams.add')}`),
    errorLine('perr-teams', f.fieldErrors.teams, 'perr-teams'));

  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-big', testid: 'person-save', disabled: f.saving }, f.saving ? t('dir.saving') : t('dir.save'));
  const form = h('form', {
    class: 'stack person-form', novalidate: true, testid: 'person-form',
    onsubmit: (e) => { e.preventDefault(); savePerson(f); },
  },
  problemBox(f.problem, f.extra),
  h('div', { class: 'form-grid' },
    field('name', { required: true, autocomplete: 'name' }),
    field('email', { type: 'email', required: true, autocomplete: 'email' }),
    field('phone', { type: 'tel', hint: t('p.phone.hint'), inputmode: 'tel', autocomplete: 'tel' }),
    language,
    field('time_zone', { hint: t('p.time_zone.hint'), list: 'tz-list' }),
    field('manager_email', { type: 'email', hint: t('p.manager_email.hint'), list: 'manager-list' }),
    field('external_id', { hint: t('p.external_id.hint') })),
  h('datalist', { id: 'tz-list' }, zones.map((z) => h('option', { value: z }))),
  h('datalist', { id: 'manager-list' }, managers.map((p) => h('option', { value: p.email }, p.name))),
  teams,
  personSites(f, touched),
  h('div', { class: 'actions' },
    save,
    h('a', { class: 'btn btn-big', href: '#/directorio', testid: 'person-cancel' }, t('dir.cancel'))));

  const p = f.person;
  const side = p ? h('aside', { class: 'card person-side', testid: 'person-side' },
    h('h2', {}, t('p.readiness')),
    h('p', {}, stateBadge(p)),
    channelBadges(p),
    h('p', { class: 'muted small' }, t('p.updated', { ago: ago(p.updated_at) })),
    toggleButton(p, (updated) => {
      f.person = updated;
      renderPersonForm(id);
    }, { block: true })) : null;

  show(frame('people',
    h('div', { class: 'form-head' },
      h('a', { class: 'back', href: '#/directorio' }, `← ${t('dir.back')}`),
      h('h2', { testid: 'person-form-title' }, p ? `${title}: ${p.name}` : title)),
    h('div', { class: side ? 'with-side' : '' }, form, side),
    p && can('admin') ? accessCard(p, () => renderPersonForm(id)) : null));
}

// ---------------------------------------------------------------- access (users)

// access is what the access card of the person being edited knows: the users (by the
// API of /api/v1/users, admins only), what is being done and what came of it.
const access = { nav: -1, users: null, error: null, busy: '', problem: null, fields: {}, role: 'responder', link: null, forId: null };
const ROLE_CHOICES = ['reporter', 'responder', 'manager', 'admin'];

function loadUsers(redraw) {
  access.nav = nav.seq;
  api('GET', 'users').then((list) => { access.users = Array.isArray(list) ? list : []; access.error = null; })
    .catch((err) => { access.error = errorText(err); })
    .finally(redraw);
}

// accessCard gives a person of the directory a login with a role (the API sends no
// mail: the card hands over the set-password link, by email when the person has one, by
// SMS otherwise), sends a new link, changes the role, and disables or enables the login.
function accessCard(p, redraw) {
  if (access.forId !== p.id) Object.assign(access, { forId: p.id, busy: '', problem: null, fields: {}, link: null, role: 'responder' });
  if (access.nav !== nav.seq) loadUsers(redraw);
  const email = String(p.email || '').toLowerCase();
  const user = (access.users || []).find((u) => u.person_id === p.id || (email && u.email === email));
  const act = async (what, method, path, body) => {
    access.busy = what;
    access.problem = null;
    access.fields = {};
    redraw();
    try {
      const got = await api(method, path, body === undefined ? undefined : { body });
      if (got?.password_link) access.link = new URL(got.password_link.replace(/^\//, ''), document.baseURI).href;
      access.busy = '';
      loadUsers(redraw);
      return;
    } catch (err) {
      access.busy = '';
      access.problem = errorText(err);
      if (err instanceof ProblemError) for (const e of err.problem.errors || []) access.fields[e.field] = e.message;
    }
    redraw();
  };
  const roleSelect = h('select', {
    class: 'input', id: 'access-role', testid: 'access-role', 'aria-invalid': access.fields.role ? 'true' : null,
    onchange: (e) => { access.role = e.target.value; },
  }, ROLE_CHOICES.map((r) => h('option', { value: r, selected: (user && !access.fields.role ? user.role : access.role) === r }, t(`role.${r}`))));
  const linkBox = access.link ? h('div', { class: 'alert alert-ok access-link', role: 'status', testid: 'access-link' },
    h('p', {}, t('access.linkLead')),
    h('p', {}, h('code', { testid: 'access-link-url' }, access.link)),
    h('p', { class: 'work-buttons' },
      email ? h('a', { class: 'btn btn-primary', testid: 'access-mail', href: `mailto:${encodeURIComponent(email)}?subject=${encodeURIComponent(t('access.mailSubject'))}&body=${encodeURIComponent(t('access.mailBody', { link: access.link }))}` }, t('access.byMail'))
        : p.phone ? h('a', { class: 'btn btn-primary', testid: 'access-sms', href: `sms:${p.phone.replace(/[^+\d]/g, '')}?body=${encodeURIComponent(t('access.mailBody', { link: access.link }))}` }, t('access.bySms')) : null,
      h('button', { type: 'button', class: 'btn', testid: 'access-copy', onclick: () => navigator.clipboard?.writeText(access.link).catch(() => {}) }, t('access.copy')))) : null;
  let body;
  if (access.users == null) body = h('p', { class: access.error ? 'alert alert-error' : 'loading' }, access.error || t('loading'));
  else if (!email) body = h('p', { class: 'muted', testid: 'access-no-email' }, t('access.noEmail'));
  else if (!user) {
    body = [h('p', {}, t('access.none')),
      h('div', { class: 'field' }, h('label', { for: 'access-role', class: 'label' }, t('access.role')), roleSelect,
        access.fields.role ? h('p', { class: 'field-error', testid: 'access-error-role' }, access.fields.role) : null),
      h('button', { type: 'button', class: 'btn btn-primary btn-block', testid: 'access-invite', disabled: !!access.busy,
        onclick: () => act('invite', 'POST', 'users', { email, name: p.name, role: roleSelect.value }) }, access.busy === 'invite' ? t('access.working') : t('access.invite'))];
  } else {
    const off = !!user.disabled_at;
    body = [h('p', { testid: 'access-state', 'data-state': off ? 'disabled' : 'active' },
      off ? t('access.disabled') : t('access.active', { role: t(`role.${user.role}`) }),
      user.has_password ? '' : ` ${t('access.noPassword')}`),
    off ? null : h('div', { class: 'field' }, h('label', { for: 'access-role', class: 'label' }, t('access.role')), roleSelect,
      access.fields.role ? h('p', { class: 'field-error', testid: 'access-error-role' }, access.fields.role) : null),
    h('p', { class: 'work-buttons' },
      off ? null : h('button', { type: 'button', class: 'btn', testid: 'access-save-role', disabled: !!access.busy,
        onclick: () => act('role', 'PATCH', `users/${encodeURIComponent(user.id)}`, { role: roleSelect.value }) }, t('access.saveRole')),
      off ? null : h('button', { type: 'button', class: 'btn', testid: 'access-resend', disabled: !!access.busy,
        onclick: () => act('link', 'POST', `users/${encodeURIComponent(user.id)}/password-link`, {}) }, t('access.resend')),
      h('button', { type: 'button', class: `btn ${off ? 'btn-primary' : 'btn-danger'}`, testid: off ? 'access-enable' : 'access-disable', disabled: !!access.busy,
        onclick: () => {
          if (!off && !window.confirm(t('access.disableConfirm', { name: p.name }))) return;
          act('disable', 'PATCH', `users/${encodeURIComponent(user.id)}`, { disabled: !off });
        } }, off ? t('access.enable') : t('access.disable')))];
  }
  return [h('section', { class: 'card access-card', testid: 'access-card', 'aria-labelledby': 'access-title' },
    h('h2', { id: 'access-title' }, t('access.title')),
    access.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'access-error' }, access.problem) : null,
    body,
    linkBox),
  // The teams and sites the user is limited to (org.js, docs/security.md "Roles").
  user ? scopeCard(user, dir.teams, redraw, () => loadUsers(redraw)) : null];
}

function teamRow(f, m, i, redraw) {
  const d = f.draft;
  const key = `teams[${i}]`;
  const msg = f.fieldErrors[key];
  const options = [...(dir.teams || [])];
  if (m.team && !options.some((x) => x.id === m.team)) options.push({ id: m.team, name_es: m.team, name_en: m.team });
  return h('div', { class: 'team-row', testid: 'pf-team-row', 'data-index': String(i) },
    h('label', { class: 'sr-only', for: `pf-team-${i}` }, t('p.team')),
    h('select', {
      id: `pf-team-${i}`, class: 'input', testid: 'pf-team', 'aria-invalid': msg ? 'true' : null, 'aria-describedby': `perr-team-${i}`,
      onchange: (e) => { m.team = e.target.value; f.dirty = true; },
    },
    h('option', { value: '' }, t('p.team.choose')),
    options.map((x) => h('option', { value: x.id, selected: x.id === m.team }, dirTeamName(x.id)))),
    h('label', { class: 'sr-only', for: `pf-role-${i}` }, t('p.role')),
    h('select', {
      id: `pf-role-${i}`, class: 'input', testid: 'pf-role',
      onchange: (e) => { m.role = e.target.value; f.dirty = true; },
    }, TEAM_ROLES.map((r) => h('option', { value: r, selected: r === m.role }, t(`trole.${r}`)))),
    h('button', {
      type: 'button', class: 'btn btn-small btn-icon', testid: 'pf-team-remove', 'aria-label': t('p.teams.remove'), title: t('p.teams.remove'),
      onclick: () => {
        d.teams.splice(i, 1);
        // The server's messages name rows by index; after a removal they no longer match.
        for (const k of Object.keys(f.fieldErrors)) if (k.startsWith('teams[')) delete f.fieldErrors[k];
        f.dirty = true;
        redraw();
      },
    }, '✕'),
    errorLine(`perr-team-${i}`, msg, 'perr-team'));
}

// personSites picks the person's sites (docs/sites.md): the first one checked is the
// primary site, marked as such.
function personSites(f, touched) {
  const sites = state.meta?.sites || [];
  if (!sites.length) return null;
  const d = f.draft;
  if (!Array.isArray(d.sites)) d.sites = [];
  const box = h('div', { class: 'checks' });
  const draw = () => box.replaceChildren(...sites.map((site) => h('label', { class: 'check', testid: `pf-site-${site.id}` },
    h('input', {
      type: 'checkbox', name: 'sites', value: site.id, checked: d.sites.includes(site.id),
      onchange: (e) => {
        if (e.target.checked) d.sites.push(site.id);
        else d.sites = d.sites.filter((x) => x !== site.id);
        touched('sites');
        draw();
        box.querySelector(`input[value="${CSS.escape(site.id)}"]`)?.focus();
      },
    }),
    h('span', {}, site.name, d.sites[0] === site.id ? h('strong', { testid: 'pf-site-primary' }, ` · ${t('p.sites.primary')}`) : null))));
  draw();
  return h('fieldset', { class: 'field', 'data-field': 'sites', testid: 'pf-sites', 'aria-describedby': 'phint-sites perr-sites' },
    h('legend', { class: 'label' }, t('p.sites')),
    h('p', { class: 'hint', id: 'phint-sites' }, t('p.sites.hint')),
    box,
    errorLine('perr-sites', f.fieldErrors.sites, 'perr-sites'));
}

async function savePerson(f) {
  if (f.saving) return;
  const d = f.draft;
  const body = {
    name: d.name.trim(), email: d.email.trim(), phone: d.phone.trim(), language: d.language,
    time_zone: d.time_zone.trim(), manager_email: d.manager_email.trim(), external_id: d.external_id.trim(),
    teams: d.teams.map((m) => ({ team: m.team, role: m.role })),
    sites: d.sites || [],
  };
  f.saving = true;
  f.problem = null;
  f.extra = [];
  renderPersonForm(f.id);
  try {
    const saved = f.id
      ? await api('PUT', `people/${encodeURIComponent(f.id)}`, { body })
      : await api('POST', 'people', { body });
    f.saving = false;
    f.dirty = false;
    const i = dir.people.list.findIndex((x) => x.id === saved.id);
    if (i >= 0) dir.people.list[i] = saved;
    dir.form = null;
    setNotice(t(f.id ? 'dir.person.saved' : 'dir.person.created', { name: saved.name }));
    location.hash = '#/directorio';
  } catch (err) {
    f.saving = false;
    if (err instanceof ProblemError && err.status === 401) return;
    if (err instanceof ProblemError) {
      const { fields, extra } = fieldErrorsOf(err.problem, PERSON_FIELDS);
      f.fieldErrors = fields;
      f.extra = extra;
      f.problem = err.problem.detail;
    } else {
      f.problem = errorText(err);
    }
    if (dir.form === f) {
      renderPersonForm(f.id);
      const first = $('[aria-invalid="true"]', view()) || $('[data-testid="dir-form-error"]', view());
      first?.scrollIntoView({ block: 'center' });
      if (first?.matches('input, select')) first.focus();
    }
  }
}

// ---------------------------------------------------------------- teams

function renderTeams() {
  const manager = can('manager');
  if (!dir.teams || dir.teamsNav !== nav.seq) {
    if (!dir.teams) show(frame('teams', h('p', { class: 'loading' }, t('loading'))));
    loadTeams(true).then(() => { if (onRoute('directorio/equipos')) renderTeams(); })
      .catch((err) => {
        if (err instanceof ProblemError && err.status === 401) return;
        if (onRoute('directorio/equipos')) show(frame('teams', h('p', { class: 'alert alert-error', role: 'alert' }, errorText(err))));
      });
    if (!dir.teams) return;
  }
  if (!dir.teamForm) dir.teamForm = { draft: { id: '', name_es: '', name_en: '' }, idEdited: false, fieldErrors: {}, problem: null, saving: false };
  const rows = dir.teams.map((team) => {
    const ed = dir.teamEdit && dir.teamEdit.id === team.id ? dir.teamEdit : null;
    if (ed) return teamEditRow(team, ed);
    return h('tr', { testid: 'team-row', 'data-id': team.id },
      h('td', { 'data-label': t('team.id') }, h('code', {}, team.id)),
      h('td', { 'data-label': t('team.name_es'), testid: 'team-name-es' }, team.name_es),
      h('td', { 'data-label': t('team.name_en'), testid: 'team-name-en' }, team.name_en),
      h('td', { 'data-label': t('team.members') },
        h('a', {
          href: '#/directorio', testid: 'team-members', class: 'cell-link',
          onclick: () => { dir.filters.team = team.id; dir.filters.q = ''; },
        }, tn('people', team.members))),
      h('td', { 'data-label': t('p.state') }, team.active ? t('team.active') : t('team.inactive')),
      manager ? h('td', { class: 'cell-actions' }, h('button', {
        type: 'button', class: 'btn btn-small', testid: 'team-rename',
        onclick: () => {
          dir.teamEdit = { id: team.id, draft: { name_es: team.name_es, name_en: team.name_en }, fieldErrors: {}, problem: null, saving: false };
          renderTeams();
          $('#te-name_es', view())?.focus();
        },
      }, t('team.rename'))) : null);
  });
  show(frame('teams',
    h('table', { class: 'dtable', testid: 'teams-list' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('team.id')), h('th', { scope: 'col' }, t('team.name_es')), h('th', { scope: 'col' }, t('team.name_en')),
        h('th', { scope: 'col' }, t('team.members')), h('th', { scope: 'col' }, t('p.state')),
        manager ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('dir.actions'))) : null)),
      h('tbody', {}, rows)),
    manager ? teamCreateForm() : h('p', { class: 'muted' }, t('dir.readonly'))));
}

function teamEditRow(team, ed) {
  const input = (name) => {
    const el = h('input', {
      id: `te-${name}`, class: 'input', testid: `te-${name}`, 'aria-label': t(`team.${name}`),
      'aria-invalid': ed.fieldErrors[name] ? 'true' : null,
      oninput: (e) => { ed.draft[name] = e.target.value; },
    });
    el.value = ed.draft[name];
    return [el, errorLine(`teerr-${name}`, ed.fieldErrors[name], `teerr-${name}`)];
  };
  return h('tr', { testid: 'team-row', 'data-id': team.id, class: 'editing' },
    h('td', { 'data-label': t('team.id') }, h('code', {}, team.id)),
    h('td', { 'data-label': t('team.name_es') }, input('name_es')),
    h('td', { 'data-label': t('team.name_en') }, input('name_en')),
    h('td', { 'data-label': t('team.members') }, String(team.members)),
    h('td', { colspan: '2', class: 'cell-actions' },
      ed.problem ? h('p', { class: 'field-error', role: 'alert' }, ed.problem) : null,
      h('button', {
        type: 'button', class: 'btn btn-small btn-primary', testid: 'team-save', disabled: ed.saving,
        onclick: async () => {
          ed.saving = true;
          try {
            await api('PUT', `teams/${encodeURIComponent(team.id)}`, { body: { name_es: ed.draft.name_es.trim(), name_en: ed.draft.name_en.trim() } });
            dir.teamEdit = null;
            await loadTeams(true);
            dir.notice = { text: t('team.saved', { id: team.id }), nav: nav.seq };
          } catch (err) {
            ed.saving = false;
            if (err instanceof ProblemError && err.status === 401) return;
            const { fields, extra } = err instanceof ProblemError ? fieldErrorsOf(err.problem, ['name_es', 'name_en']) : { fields: {}, extra: [] };
            ed.fieldErrors = fields;
            ed.problem = [errorText(err), ...extra].join(' ');
          }
          if (onRoute('directorio/equipos')) renderTeams();
        },
      }, t('dir.save')),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'team-cancel', onclick: () => { dir.teamEdit = null; renderTeams(); } }, t('dir.cancel'))));
}

function teamCreateForm() {
  const f = dir.teamForm;
  const d = f.draft;
  const input = (name, { hint } = {}) => {
    const el = h('input', {
      id: `tf-${name}`, class: 'input', testid: `tf-${name}`, autocomplete: 'off',
      'aria-invalid': f.fieldErrors[name] ? 'true' : null, 'aria-describedby': `${hint ? `tfhint-${name} ` : ''}tferr-${name}`,
      oninput: (e) => {
        d[name] = e.target.value;
        if (name === 'id') f.idEdited = e.target.value !== '';
        if (name === 'name_es' && !f.idEdited) {
          d.id = slugify(e.target.value);
          const idEl = $('#tf-id', view());
          if (idEl) idEl.value = d.id;
        }
      },
    });
    el.value = d[name];
    return h('div', { class: 'field' },
      h('label', { for: `tf-${name}`, class: 'label' }, t(`team.${name}`)),
      hint ? h('p', { class: 'hint', id: `tfhint-${name}` }, hint) : null,
      el,
      errorLine(`tferr-${name}`, f.fieldErrors[name], `tferr-${name}`));
  };
  return h('form', {
    class: 'card stack create-form', testid: 'team-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (f.saving) return;
      f.problem = null;
      f.fieldErrors = {};
      const body = { id: d.id.trim(), name_es: d.name_es.trim(), name_en: d.name_en.trim() || d.name_es.trim() };
      if (dir.teams.some((x) => x.id === body.id)) {
        f.fieldErrors.id = t('team.exists');
        renderTeams();
        return;
      }
      f.saving = true;
      try {
        await api('POST', 'teams', { body });
        dir.teamForm = null;
        await loadTeams(true);
        dir.notice = { text: t('team.created', { name: body.name_es }), nav: nav.seq };
      } catch (err) {
        f.saving = false;
        if (err instanceof ProblemError && err.status === 401) return;
        if (err instanceof ProblemError) {
          const { fields, extra } = fieldErrorsOf(err.problem, ['id', 'name_es', 'name_en']);
          f.fieldErrors = fields;
          f.problem = [err.problem.detail, ...extra].join(' ');
        } else f.problem = errorText(err);
      }
      if (onRoute('directorio/equipos')) renderTeams();
    },
  },
  h('h2', {}, t('team.new')),
  f.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'team-form-error' }, f.problem) : null,
  h('div', { class: 'form-grid' }, input('name_es'), input('name_en'), input('id', { hint: t('team.id.hint') })),
  h('button', { type: 'submit', class: 'btn btn-primary', testid: 'team-create', disabled: f.saving }, t('team.create')));
}

// ---------------------------------------------------------------- services

function renderServices() {
  const manager = can('manager');
  const stale = !dir.services || dir.servicesNav !== nav.seq || !dir.teams;
  if (stale) {
    if (!dir.services || !dir.teams) show(frame('services', h('p', { class: 'loading' }, t('loading'))));
    Promise.all([loadServices(true), loadTeams()]).then(() => { if (onRoute('directorio/servicios')) renderServices(); })
      .catch((err) => {
        if (err instanceof ProblemError && err.status === 401) return;
        if (onRoute('directorio/servicios')) show(frame('services', h('p', { class: 'alert alert-error', role: 'alert' }, errorText(err))));
      });
    if (!dir.services || !dir.teams) return;
  }
  if (!dir.serviceForm) dir.serviceForm = { draft: { id: '', name: '', owner_team: '' }, idEdited: false, fieldErrors: {}, problem: null, saving: false };
  const rows = dir.services.map((sv) => {
    const ed = dir.serviceEdit && dir.serviceEdit.id === sv.id ? dir.serviceEdit : null;
    if (ed) return serviceEditRow(sv, ed);
    return h('tr', { testid: 'service-row', 'data-id': sv.id },
      h('td', { 'data-label': t('svc.id') }, h('code', {}, sv.id)),
      h('td', { 'data-label': t('svc.name'), testid: 'service-name' }, sv.name),
      h('td', { 'data-label': t('svc.owner'), testid: 'service-owner' }, dirTeamName(sv.owner_team)),
      manager ? h('td', { class: 'cell-actions' }, h('button', {
        type: 'button', class: 'btn btn-small', testid: 'service-edit',
        onclick: () => {
          dir.serviceEdit = { id: sv.id, draft: { name: sv.name, owner_team: sv.owner_team }, fieldErrors: {}, problem: null, saving: false };
          renderServices();
          $('#se-name', view())?.focus();
        },
      }, t('dir.edit'))) : null);
  });
  show(frame('services',
    dir.services.length ? h('table', { class: 'dtable', testid: 'services-list' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('svc.id')), h('th', { scope: 'col' }, t('svc.name')), h('th', { scope: 'col' }, t('svc.owner')),
        manager ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('dir.actions'))) : null)),
      h('tbody', {}, rows)) : h('p', { class: 'empty', testid: 'services-empty' }, t('svc.empty')),
    manager ? serviceCreateForm() : h('p', { class: 'muted' }, t('dir.readonly'))));
}

function ownerSelect(id, value, onchange, invalid) {
  return h('select', { id, class: 'input', testid: id, 'aria-invalid': invalid ? 'true' : null, onchange },
    h('option', { value: '' }, t('p.team.choose')),
    dir.teams.map((x) => h('option', { value: x.id, selected: x.id === value }, dirTeamName(x.id))));
}

function serviceEditRow(sv, ed) {
  const name = h('input', {
    id: 'se-name', class: 'input', testid: 'se-name', 'aria-label': t('svc.name'),
    'aria-invalid': ed.fieldErrors.name ? 'true' : null, oninput: (e) => { ed.draft.name = e.target.value; },
  });
  name.value = ed.draft.name;
  return h('tr', { testid: 'service-row', 'data-id': sv.id, class: 'editing' },
    h('td', { 'data-label': t('svc.id') }, h('code', {}, sv.id)),
    h('td', { 'data-label': t('svc.name') }, name, errorLine('seerr-name', ed.fieldErrors.name, 'seerr-name')),
    h('td', { 'data-label': t('svc.owner') },
      ownerSelect('se-owner_team', ed.draft.owner_team, (e) => { ed.draft.owner_team = e.target.value; }, ed.fieldErrors.owner_team),
      errorLine('seerr-owner_team', ed.fieldErrors.owner_team, 'seerr-owner_team')),
    h('td', { class: 'cell-actions' },
      ed.problem ? h('p', { class: 'field-error', role: 'alert' }, ed.problem) : null,
      h('button', {
        type: 'button', class: 'btn btn-small btn-primary', testid: 'service-save', disabled: ed.saving,
        onclick: async () => {
          ed.saving = true;
          try {
            await api('PUT', `services/${encodeURIComponent(sv.id)}`, { body: { name: ed.draft.name.trim(), owner_team: ed.draft.owner_team } });
            dir.serviceEdit = null;
            await loadServices(true);
            dir.notice = { text: t('svc.saved', { name: ed.draft.name.trim() }), nav: nav.seq };
          } catch (err) {
            ed.saving = false;
            if (err instanceof ProblemError && err.status === 401) return;
            const { fields, extra } = err instanceof ProblemError ? fieldErrorsOf(err.problem, ['name', 'owner_team']) : { fields: {}, extra: [] };
            ed.fieldErrors = fields;
            ed.problem = [errorText(err), ...extra].join(' ');
          }
          if (onRoute('directorio/servicios')) renderServices();
        },
      }, t('dir.save')),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'service-cancel', onclick: () => { dir.serviceEdit = null; renderServices(); } }, t('dir.cancel'))));
}

function serviceCreateForm() {
  const f = dir.serviceForm;
  const d = f.draft;
  const input = (name, { hint } = {}) => {
    const el = h('input', {
      id: `sf-${name}`, class: 'input', testid: `sf-${name}`, autocomplete: 'off',
      'aria-invalid': f.fieldErrors[name] ? 'true' : null, 'aria-describedby': `${hint ? `sfhint-${name} ` : ''}sferr-${name}`,
      oninput: (e) => {
        d[name] = e.target.value;
        if (name === 'id') f.idEdited = e.target.value !== '';
        if (name === 'name' && !f.idEdited) {
          d.id = slugify(e.target.value);
          const idEl = $('#sf-id', view());
          if (idEl) idEl.value = d.id;
        }
      },
    });
    el.value = d[name];
    return h('div', { class: 'field' },
      h('label', { for: `sf-${name}`, class: 'label' }, t(`svc.${name}`)),
      hint ? h('p', { class: 'hint', id: `sfhint-${name}` }, hint) : null,
      el,
      errorLine(`sferr-${name}`, f.fieldErrors[name], `sferr-${name}`));
  };
  return h('form', {
    class: 'card stack create-form', testid: 'service-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (f.saving) return;
      f.problem = null;
      f.fieldErrors = {};
      const body = { id: d.id.trim(), name: d.name.trim(), owner_team: d.owner_team };
      if (dir.services.some((x) => x.id === body.id)) {
        f.fieldErrors.id = t('svc.exists');
        renderServices();
        return;
      }
      f.saving = true;
      try {
        await api('POST', 'services', { body });
        dir.serviceForm = null;
        await loadServices(true);
        dir.notice = { text: t('svc.created', { name: body.name }), nav: nav.seq };
      } catch (err) {
        f.saving = false;
        if (err instanceof ProblemError && err.status === 401) return;
        if (err instanceof ProblemError) {
          const { fields, extra } = fieldErrorsOf(err.problem, ['id', 'name', 'owner_team']);
          f.fieldErrors = fields;
          f.problem = [err.problem.detail, ...extra].join(' ');
        } else f.problem = errorText(err);
      }
      if (onRoute('directorio/servicios')) renderServices();
    },
  },
  h('h2', {}, t('svc.new')),
  f.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'service-form-error' }, f.problem) : null,
  h('div', { class: 'form-grid' },
    input('name'),
    h('div', { class: 'field' },
      h('label', { for: 'sf-owner_team', class: 'label' }, t('svc.owner')),
      ownerSelect('sf-owner_team', d.owner_team, (e) => { d.owner_team = e.target.value; }, f.fieldErrors.owner_team),
      errorLine('sferr-owner_team', f.fieldErrors.owner_team, 'sferr-owner_team')),
    input('id', { hint: t('svc.id.hint') })),
  h('button', { type: 'submit', class: 'btn btn-primary', testid: 'service-create', disabled: f.saving }, t('svc.create')));
}

// ---------------------------------------------------------------- import and export

function fileType(name) {
  const n = String(name || '').toLowerCase();
  if (n.endsWith('.csv')) return 'text/csv';
  if (n.endsWith('.yaml') || n.endsWith('.yml')) return 'application/yaml';
  return '';
}

async function postImport(dryRun) {
  const im = dir.import;
  im.busy = true;
  im.problem = null;
  im.report = dryRun ? null : im.report;
  renderImport();
  try {
    const rep = await api('POST', `people/import${dryRun ? '?dry_run=true' : ''}`, { raw: im.blob, contentType: im.type });
    im.busy = false;
    im.report = rep || {};
    im.stage = dryRun ? 'preview' : 'done';
    if (!dryRun) {
      dir.people.nav = -1; // the list is stale
      dir.teamsNav = -1;
      dir.readiness.nav = -1;
    }
  } catch (err) {
    im.busy = false;
    if (err instanceof ProblemError && err.status === 401) return;
    im.stage = 'error';
    im.problem = errorText(err);
    im.report = err instanceof ProblemError && err.problem.report && typeof err.problem.report === 'object' ? err.problem.report : null;
  }
  if (onRoute('directorio/importar')) {
    renderImport();
    $('[data-testid="import-result"]', view())?.scrollIntoView({ block: 'nearest' });
  }
}

function reportList(rep) {
  const teams = Array.isArray(rep.teams_created) ? rep.teams_created : [];
  const item = (key, value, testid) => h('div', { class: 'stat' }, h('dt', {}, t(key)), h('dd', { testid }, String(value)));
  return h('dl', { class: 'report', testid: 'import-numbers' },
    item('imp.rows', rep.rows ?? 0, 'imp-rows'),
    item('imp.created', rep.created ?? 0, 'imp-created'),
    item('imp.updated', rep.updated ?? 0, 'imp-updated'),
    item('imp.unchanged', rep.unchanged ?? 0, 'imp-unchanged'),
    item('imp.teamsCreated', teams.length ? teams.join(', ') : '0', 'imp-teams'),
    rep.services_changed ? item('imp.services', rep.services_changed, 'imp-services') : null);
}

function errorTable(rep) {
  const errors = Array.isArray(rep?.errors) ? rep.errors : [];
  if (!errors.length) return null;
  const total = Number(rep.error_count) || errors.length;
  return h('div', { class: 'import-errors' },
    h('table', { class: 'dtable errors', testid: 'import-errors' },
      h('caption', {}, t('imp.errors.caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('imp.line')), h('th', { scope: 'col' }, t('p.email')),
        h('th', { scope: 'col' }, t('imp.field')), h('th', { scope: 'col' }, t('imp.message')))),
      h('tbody', {}, errors.map((e) => h('tr', { testid: 'import-error-row', 'data-line': String(e.line ?? '') },
        h('td', { 'data-label': t('imp.line') }, String(e.line ?? '')),
        h('td', { 'data-label': t('p.email') }, e.email || '—'),
        h('td', { 'data-label': t('imp.field') }, h('code', {}, e.field || '')),
        h('td', { 'data-label': t('imp.message') }, e.message || ''))))),
    total > errors.length ? h('p', { class: 'muted', testid: 'import-errors-more' }, t('imp.errors.more', { shown: errors.length, total })) : null);
}

function renderImport() {
  if (!dir.import) dir.import = { stage: 'idle', name: '', type: '', blob: null, report: null, problem: null, busy: false };
  const im = dir.import;
  const input = h('input', {
    type: 'file', id: 'imp-file', class: 'file-input', testid: 'import-file',
    accept: '.csv,.yaml,.yml,text/csv,application/yaml',
    'aria-describedby': 'imp-hint imp-type-error',
    onchange: async (e) => {
      const file = e.target.files?.[0];
      e.target.value = ''; // choosing the same file again is a new upload
      if (!file) return;
      const type = fileType(file.name);
      dir.import = { stage: 'idle', name: file.name, type, blob: null, report: null, problem: null, busy: false };
      if (!type) {
        dir.import.stage = 'error';
        dir.import.problem = t('imp.badType');
        renderImport();
        return;
      }
      dir.import.blob = file;
      await postImport(true);
    },
  });
  let result = null;
  if (im.busy) {
    result = h('p', { class: 'loading', testid: 'import-busy' }, im.stage === 'preview' ? t('imp.importing') : t('imp.checking'));
  } else if (im.stage === 'preview' && im.report) {
    result = h('div', { class: 'card stack', testid: 'import-report', 'data-dry-run': 'true' },
      h('h2', {}, t('imp.preview.title', { file: im.name })),
      h('p', { class: 'lead' }, t('imp.preview.lead')),
      reportList(im.report),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-primary btn-big', testid: 'import-confirm', onclick: () => postImport(false) }, t('imp.confirm')),
        h('button', { type: 'button', class: 'btn btn-big', testid: 'import-cancel', onclick: () => { dir.import = null; renderImport(); } }, t('dir.cancel'))));
  } else if (im.stage === 'done' && im.report) {
    result = h('div', { class: 'card stack card-ok', testid: 'import-done' },
      h('h2', {}, t('imp.done.title')),
      reportList(im.report),
      h('div', { class: 'actions' },
        h('a', { class: 'btn btn-primary', href: '#/directorio', testid: 'import-see-people', onclick: () => { dir.filters = { q: '', team: '', active: '' }; } }, t('imp.done.people')),
        h('a', { class: 'btn', href: '#/directorio/preparacion' }, t('imp.done.readiness'))));
  } else if (im.stage === 'error') {
    result = h('div', { class: 'stack' },
      h('div', { class: 'alert alert-error', role: 'alert', testid: 'import-error' },
        h('p', {}, im.problem),
        im.report ? h('p', { class: 'small' }, t('imp.nothing')) : null),
      errorTable(im.report));
  }
  show(frame('import',
    h('div', { class: 'import-grid' },
      h('div', { class: 'card stack' },
        h('h2', {}, t('imp.title')),
        h('p', { id: 'imp-hint', class: 'hint' }, t('imp.lead')),
        h('p', { class: 'hint' }, t('imp.columns'), ' ', h('code', {}, 'name,email,phone,language,teams,manager_email')),
        h('label', { for: 'imp-file', class: 'btn btn-primary btn-big file-label', testid: 'import-choose' }, `⬆ ${t('imp.choose')}`),
        input,
        im.name ? h('p', { class: 'muted', testid: 'import-name' }, t('imp.file', { file: im.name })) : null),
      h('div', { class: 'card stack' },
        h('h2', {}, t('exp.title')),
        h('p', { class: 'hint' }, t('exp.lead')),
        h('a', { class: 'btn btn-big', href: 'api/v1/people/export', download: 'directorio.csv', testid: 'export-csv' }, `⬇ ${t('dir.export')}`))),
    h('div', { class: 'import-result', testid: 'import-result', 'aria-live': 'polite' }, result)));
}

// ---------------------------------------------------------------- readiness

function bar(share, label) {
  const v = Math.max(0, Math.min(1, Number(share) || 0));
  const level = v >= 0.9 ? 'good' : v >= 0.6 ? 'fair' : 'poor';
  return svg('svg', { class: `bar bar-${level}`, viewBox: '0 0 100 10', preserveAspectRatio: 'none', role: 'img', 'aria-label': label, focusable: 'false' },
    svg('rect', { class: 'bar-bg', x: 0, y: 0, width: 100, height: 10, rx: 2 }),
    svg('rect', { class: 'bar-fg', x: 0, y: 0, width: (v * 100).toFixed(1), height: 10, rx: 2 }));
}

function readinessCard(r, { overall = false } = {}) {
  const without = Array.isArray(r.without_verified_channel) ? r.without_verified_channel : [];
  const ch = r.channels || {};
  const metric = (key, share, count, testid) => h('div', { class: 'metric', testid },
    h('div', { class: 'metric-head' },
      h('span', { class: 'metric-label' }, t(key)),
      h('span', { class: 'metric-num' },
        h('span', { class: 'metric-value', 'data-share': String(share ?? 0) }, pct(share)),
        h('span', { class: 'muted small' }, t('ready.ofPeople', { n: count, total: r.people })))),
    bar(share, `${t(key)}: ${pct(share)}`));
  const list = without.length ? h('details', { class: 'without', open: without.length <= 5, testid: 'ready-without' },
    h('summary', {}, t('ready.without', { n: without.length })),
    h('ul', {}, without.map((p) => h('li', { 'data-id': p.id },
      can('manager') ? h('a', { href: `#/directorio/personas/${encodeURIComponent(p.id)}` }, p.name) : p.name,
      h('span', { class: 'muted' }, ` — ${reasonText(p.reason)}`))))) : null;
  return h('article', {
    class: `card ready-card${overall ? ' ready-overall' : ''}`, testid: overall ? 'readiness-overall' : r.site ? 'readiness-site' : 'readiness-team',
    'data-team': r.team || '', 'data-site': r.site || null, 'data-people': String(r.people),
  },
  h(overall ? 'h2' : 'h3', {}, reachName(r)),
  r.people ? [
    h('p', { class: 'ready-people' }, h('strong', {}, String(r.people)), ' ', r.people === 1 ? t('ready.person1') : t('ready.people')),
    metric('ready.one', r.share_verified, r.verified, 'ready-one'),
    metric('ready.two', r.share_verified_two, r.verified_two, 'ready-two'),
    h('p', { class: 'small' }, t('ready.reachable', { n: r.reachable, total: r.people })),
    h('p', { class: 'small channels' },
      h('span', {}, t('ready.ch.webpush', { n: ch.webpush || 0 })),
      h('span', {}, t('ready.ch.sms', { n: ch.sms || 0 })),
      h('span', {}, t('ready.ch.voice', { n: ch.voice || 0 }))),
    list,
  ] : h('p', { class: 'muted' }, t('ready.empty')));
}

// reconfirmCard asks everyone whose phone is unverified, or was verified more than N
// months ago, to confirm it by SMS with a link (POST /api/v1/readiness/reconfirm).
function reconfirmCard() {
  const rc = dir.reconfirm || (dir.reconfirm = { months: '6', busy: false, result: null, error: null });
  const redraw = () => { if (onRoute('directorio/preparacion')) renderReadiness(); };
  const months = h('input', {
    id: 'reconfirm-months', type: 'number', min: '0', max: '120', class: 'input', testid: 'reconfirm-months',
    'aria-describedby': 'reconfirm-hint', oninput: (e) => { rc.months = e.target.value; },
  });
  months.value = rc.months;
  return h('section', { class: 'card stack', testid: 'reconfirm', 'aria-labelledby': 'reconfirm-title' },
    h('h2', { id: 'reconfirm-title' }, t('ready.reconfirm.title')),
    h('p', { id: 'reconfirm-hint', class: 'hint' }, t('ready.reconfirm.hint')),
    h('label', { for: 'reconfirm-months', class: 'label' }, t('ready.reconfirm.months')),
    months,
    rc.error ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'reconfirm-error' }, rc.error) : null,
    rc.result ? h('p', { class: 'alert alert-ok', role: 'status', testid: 'reconfirm-result' },
      t('ready.reconfirm.result', { asked: rc.result.asked, sent: rc.result.sent, later: rc.result.not_sent })) : null,
    h('button', {
      type: 'button', class: 'btn btn-primary btn-block', testid: 'reconfirm-send', disabled: rc.busy,
      onclick: async () => {
        rc.busy = true; rc.error = null; rc.result = null; redraw();
        try {
          rc.result = await api('POST', 'readiness/reconfirm', { body: { older_than_months: Number(rc.months) } });
        } catch (err) {
          if (err instanceof ProblemError && err.status === 401) { rc.busy = false; return; }
          rc.error = errorText(err);
        }
        rc.busy = false;
        redraw();
      },
    }, rc.busy ? t('dir.saving') : t('ready.reconfirm.send')));
}

// sharedPhones lists the numbers several active people have: replies from them are
// refused until a manager gives each number to one person (contacts/phones.go).
function sharedPhones(list) {
  if (!Array.isArray(list) || !list.length) return null;
  return h('section', { class: 'alert alert-error', role: 'alert', testid: 'ready-shared-phones' },
    h('h2', {}, t('ready.shared.title', { n: list.length })),
    h('p', {}, t('ready.shared.lead')),
    h('ul', {}, list.map((sp) => h('li', { 'data-phone': sp.phone },
      h('strong', {}, sp.phone), ': ',
      (sp.people || []).map((p, i) => [i ? ', ' : '',
        h('a', { href: `#/directorio/personas/${encodeURIComponent(p.id)}` }, p.name)])))));
}

async function loadReadiness() {
  const rd = dir.readiness;
  rd.loading = true;
  try {
    rd.data = await api('GET', 'readiness');
    rd.error = null;
    rd.nav = nav.seq;
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    rd.error = errorText(err);
  } finally {
    rd.loading = false;
  }
  if (onRoute('directorio/preparacion')) renderReadiness();
}

function renderReadiness() {
  const rd = dir.readiness;
  if (rd.nav !== nav.seq && !rd.loading) loadReadiness();
  let body;
  if (rd.error) body = h('p', { class: 'alert alert-error', role: 'alert', testid: 'readiness-error' }, rd.error);
  else if (!rd.data) body = h('p', { class: 'loading' }, t('loading'));
  else {
    const teams = Array.isArray(rd.data.teams) ? rd.data.teams : [];
    body = [
      sharedPhones(rd.data.shared_phones),
      readinessNotes(rd.data), // team chats and email bounces (chat.js, issue 17)
      readinessCard(rd.data.overall || { people: 0 }, { overall: true }),
      h('h2', { class: 'section-title' }, t('ready.byTeam')),
      teams.length ? h('div', { class: 'ready-grid', testid: 'readiness-teams' }, teams.map((r) => readinessCard(r))) : h('p', { class: 'muted' }, t('ready.noTeams')),
      ...(Array.isArray(rd.data.sites) && rd.data.sites.length ? [
        h('h2', { class: 'section-title' }, t('ready.bySite')),
        h('div', { class: 'ready-grid', testid: 'readiness-sites' }, rd.data.sites.map((r) => readinessCard(r))),
      ] : []),
      reconfirmCard(),
    ];
  }
  show(frame('readiness',
    h('p', { class: 'lead' }, t('ready.lead')),
    h('div', { class: 'readiness', testid: 'readiness', 'data-state': rd.data && rd.nav === nav.seq ? 'ready' : 'loading' }, body)));
}

// ---------------------------------------------------------------- my profile

async function loadProfile() {
  const pr = dir.profile;
  pr.loading = true;
  pr.error = null;
  pr.missing = null;
  try {
    const person = await api('GET', 'me/profile');
    pr.person = person;
    pr.draft = profileDraft(person);
    pr.fieldErrors = {};
    pr.problem = null;
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    pr.person = null;
    if (err instanceof ProblemError && err.status === 404) {
      // A route the server does not have yet says "There is no GET …"; a user with no
      // directory entry gets a 404 of its own.
      pr.missing = /^There is no /.test(err.problem.detail || '') ? 'route' : 'person';
    } else {
      pr.error = errorText(err);
    }
  } finally {
    pr.loading = false;
    pr.nav = nav.seq;
  }
  if (onRoute('perfil')) renderProfile();
}

export function renderProfile() {
  const pr = dir.profile;
  if (pr.nav !== nav.seq && !pr.loading && !pr.saving) loadProfile();
  const me = state.me || {};
  const who = h('div', { class: 'card profile-who', testid: 'profile-who' },
    h('p', { class: 'profile-name', testid: 'profile-name' }, userName(me)),
    h('p', { class: 'muted' }, t('profile.role'), ': ', h('strong', { testid: 'profile-role' }, me.role ? t(`role.${me.role}`) : '—')));

  let body;
  if (pr.loading && !pr.person) body = h('p', { class: 'loading' }, t('loading'));
  else if (pr.error) body = h('p', { class: 'alert alert-error', role: 'alert', testid: 'profile-error' }, pr.error);
  else if (pr.missing) {
    body = h('div', { class: 'card stack', testid: 'profile-missing', 'data-reason': pr.missing },
      h('h2', {}, t('profile.missing.title')),
      h('p', {}, t(pr.missing === 'route' ? 'profile.missing.route' : 'profile.missing.person')));
  } else if (pr.person) body = profileForm(pr);

  show(h('section', { class: 'page', testid: 'profile' },
    h('h1', {}, t('profile.title')),
    pr.saved ? h('p', { class: 'alert alert-ok', role: 'status', testid: 'profile-saved' }, t('profile.saved')) : null,
    who,
    body,
    pr.person ? phoneCard(pr.person, { onVerified: (person) => profileVerified(person) }) : null,
    pr.error ? null : pushCard({ linked: pr.person ? true : pr.missing ? false : null, onCount: (n) => pushCount(n) }),
    pr.error ? null : silentCard(),
    hasPassword() ? passwordCard(() => { if (onRoute('perfil')) renderProfile(); }) : null));
}

// profileVerified takes the person the phone verification answered (its
// channels.phone_verified_at now set) and draws the page again, keeping what was typed.
function profileVerified(person) {
  const pr = dir.profile;
  if (!person || !pr.person) return;
  const d = pr.draft;
  const untouched = d && d.phone === (pr.person.phone || '') && d.language === (pr.person.language || 'es');
  pr.person = person;
  if (untouched) pr.draft = profileDraft(person);
  if (!onRoute('perfil')) return;
  renderProfile();
  $('[data-testid="phone-verified"]', view())?.focus();
}

// pushCount shows the person's number of subscribed browsers in the channel badges.
function pushCount(n) {
  const p = dir.profile.person;
  if (!p || Number(p.channels?.push_subscriptions) === n) return;
  p.channels = { ...(p.channels || {}), push_subscriptions: n };
  const slot = $('[data-testid="me-channels"]', view());
  if (slot) slot.replaceChildren(channelBadges(p));
}

// CHANNEL_NAMES are the channels a person puts in order (contacts.ChannelNames).
const CHANNEL_NAMES = ['webpush', 'sms', 'voice', 'email'];

// profileDraft is what the profile form edits: the person's phone and language, and the
// contacts they keep themselves (a second phone, an email, the order of their channels).
function profileDraft(person) {
  const order = Array.isArray(person.channel_order) ? person.channel_order.filter((c) => CHANNEL_NAMES.includes(c)) : [];
  return {
    phone: person.phone || '', language: person.language || 'es',
    phone2: person.phone2 || '', contact_email: person.contact_email || '',
    channel_order: [...order, ...CHANNEL_NAMES.filter((c) => !order.includes(c))],
  };
}

// ownContactFields are the second phone (with its own verification), the alert email and
// the order of the channels, moved with "Subir" buttons.
function ownContactFields(pr) {
  const d = pr.draft;
  const p = pr.person;
  const input = (id, field, type, attrs = {}) => {
    const el = h('input', {
      id, type, class: 'input', testid: id, 'aria-describedby': `${id}-hint ${id}-err`,
      'aria-invalid': pr.fieldErrors[field] ? 'true' : null,
      oninput: (e) => { d[field] = e.target.value; pr.saved = false; }, ...attrs,
    });
    el.value = d[field];
    return el;
  };
  const v2 = p.phone2 && p.channels?.phone2_verified_at;
  const order = h('ol', { class: 'channel-order', testid: 'me-channel-order', 'aria-describedby': 'me-order-hint' },
    d.channel_order.map((c, i) => h('li', { testid: `order-${c}` },
      h('span', {}, t(`order.${c}`)), ' ',
      i > 0 ? h('button', {
        type: 'button', class: 'btn btn-small', testid: `order-up-${c}`, 'aria-label': `${t('order.up')}: ${t(`order.${c}`)}`,
        onclick: () => {
          [d.channel_order[i - 1], d.channel_order[i]] = [d.channel_order[i], d.channel_order[i - 1]];
          pr.saved = false;
          renderProfile();
          $(`[data-testid="order-up-${c}"]`, view())?.focus();
        },
      }, t('order.up')) : null)));
  return h('div', { class: 'stack', testid: 'me-own-contacts' },
    h('div', { class: 'field' },
      h('label', { for: 'me-phone2', class: 'label' }, t('p.phone2')),
      h('p', { class: 'hint', id: 'me-phone2-hint' }, t('p.phone2.hint')),
      input('me-phone2', 'phone2', 'tel', { inputmode: 'tel', autocomplete: 'tel' }),
      errorLine('me-phone2-err', pr.fieldErrors.phone2, 'me-err-phone2'),
      p.phone2 ? h('p', { class: v2 ? 'muted' : 'hint', testid: 'me-phone2-state' }, v2 ? t('p.phone2.verified') : t('p.phone2.unverified')) : null,
      p.phone2 && !v2 ? phone2Verify(pr) : null),
    h('div', { class: 'field' },
      h('label', { for: 'me-email2', class: 'label' }, t('p.email2')),
      h('p', { class: 'hint', id: 'me-email2-hint' }, t('p.email2.hint')),
      input('me-email2', 'contact_email', 'email', { autocomplete: 'email' }),
      errorLine('me-email2-err', pr.fieldErrors.contact_email, 'me-err-email2')),
    h('div', { class: 'field' },
      h('p', { class: 'label', id: 'me-order-label' }, t('p.order')),
      h('p', { class: 'hint', id: 'me-order-hint' }, t('p.order.hint')),
      order,
      errorLine('me-order-err', pr.fieldErrors.channel_order, 'me-err-order')));
}

// phone2Verify sends a code to the second phone and checks it, as the phone card does
// for the first one.
function phone2Verify(pr) {
  const v = pr.phone2 || (pr.phone2 = { sent: false, busy: false, error: null, code: '' });
  const redraw = () => { if (onRoute('perfil')) renderProfile(); };
  const send = async () => {
    v.busy = true; v.error = null; redraw();
    try {
      await api('POST', 'me/phone/verification', { body: { which: 'phone2' } });
      v.sent = true;
    } catch (err) { v.error = errorText(err); }
    v.busy = false; redraw();
    $('[data-testid="me-phone2-code"]', view())?.focus();
  };
  const confirm = async () => {
    v.busy = true; v.error = null; redraw();
    try {
      const person = await api('POST', 'me/phone/verification/confirm', { body: { code: v.code.trim() } });
      pr.person = person;
      pr.phone2 = null;
    } catch (err) { v.error = errorText(err); v.busy = false; }
    redraw();
  };
  const code = h('input', {
    id: 'me-phone2-code', class: 'input', testid: 'me-phone2-code', inputmode: 'numeric', autocomplete: 'one-time-code',
    oninput: (e) => { v.code = e.target.value; },
  });
  code.value = v.code;
  return h('div', { class: 'stack', testid: 'me-phone2-verify' },
    v.error ? h('p', { class: 'field-error', role: 'alert', testid: 'me-phone2-error' }, v.error) : null,
    v.sent ? h('label', { for: 'me-phone2-code', class: 'label' }, t('p.phone2.code')) : null,
    v.sent ? code : null,
    v.sent ? h('button', { type: 'button', class: 'btn btn-primary', testid: 'me-phone2-confirm', disabled: v.busy, onclick: confirm }, t('phone.confirm')) : null,
    h('button', { type: 'button', class: 'btn', testid: 'me-phone2-send', disabled: v.busy, onclick: send }, v.sent ? t('phone.resend') : t('p.phone2.verify')));
}

function profileForm(pr) {
  const p = pr.person;
  const d = pr.draft;
  const phone = h('input', {
    id: 'me-phone', type: 'tel', class: 'input', testid: 'me-phone', inputmode: 'tel', autocomplete: 'tel',
    'aria-describedby': 'me-phone-hint me-err-phone', 'aria-invalid': pr.fieldErrors.phone ? 'true' : null,
    oninput: (e) => { d.phone = e.target.value; pr.saved = false; },
  });
  phone.value = d.phone;
  const lang = h('select', {
    id: 'me-language', class: 'input', testid: 'me-language', 'aria-describedby': 'me-err-language',
    onchange: (e) => { d.language = e.target.value; pr.saved = false; },
  },
  h('option', { value: 'es', selected: d.language === 'es' }, 'Español'),
  h('option', { value: 'en', selected: d.language === 'en' }, 'English'));
  return h('form', {
    class: 'card stack', testid: 'profile-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (pr.saving) return;
      pr.saving = true;
      pr.problem = null;
      pr.saved = false;
      renderProfile();
      try {
        const person = await api('PUT', 'me/profile', { body: {
          phone: d.phone.trim(), language: d.language,
          phone2: d.phone2.trim(), contact_email: d.contact_email.trim(), channel_order: d.channel_order,
        } });
        pr.person = person;
        pr.draft = profileDraft(person);
        pr.fieldErrors = {};
        pr.saved = true;
      } catch (err) {
        if (err instanceof ProblemError && err.status === 401) { pr.saving = false; return; }
        if (err instanceof ProblemError) {
          const { fields, extra } = fieldErrorsOf(err.problem, ['phone', 'language', 'phone2', 'contact_email', 'channel_order']);
          pr.fieldErrors = fields;
          pr.problem = [err.problem.detail, ...extra].join(' ');
        } else pr.problem = errorText(err);
      }
      pr.saving = false;
      if (onRoute('perfil')) renderProfile();
    },
  },
  h('h2', {}, t('profile.contact')),
  pr.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'profile-form-error' }, pr.problem) : null,
  h('p', { class: 'muted' }, p.email),
  h('div', { class: 'field' },
    h('label', { for: 'me-phone', class: 'label' }, t('p.phone')),
    h('p', { class: 'hint', id: 'me-phone-hint' }, t('p.phone.hint')),
    phone,
    errorLine('me-err-phone', pr.fieldErrors.phone, 'me-err-phone')),
  h('div', { class: 'field' },
    h('label', { for: 'me-language', class: 'label' }, t('profile.language')),
    lang,
    errorLine('me-err-language', pr.fieldErrors.language, 'me-err-language')),
  ownContactFields(pr),
  h('div', {}, h('p', { class: 'label' }, t('p.channels')), h('div', { testid: 'me-channels' }, channelBadges(p))),
  h('div', {}, h('p', { class: 'label' }, t('p.teams')), membershipChips(p)),
  h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'profile-save', disabled: pr.saving }, pr.saving ? t('dir.saving') : t('dir.save')));
}

// ---------------------------------------------------------------- reachability of an audience

const reachCache = new Map(); // "a,b" → {at, data, error, promise}
let reachTimer = 0;

function reachKey(teams) { return [...teams].sort().join(','); }

function fetchReach(teams) {
  const key = reachKey(teams);
  const hit = reachCache.get(key);
  if (hit && (hit.promise || Date.now() - hit.at < REACH_FRESH_MS)) return hit;
  const entry = { at: Date.now(), data: hit?.data || null, error: null, promise: null };
  entry.promise = api('GET', `audience/preview?teams=${encodeURIComponent(key)}`)
    .then((data) => { entry.data = data; entry.error = null; })
    .catch((err) => { entry.error = errorText(err); })
    .finally(() => { entry.promise = null; entry.at = Date.now(); });
  reachCache.set(key, entry);
  return entry;
}

function teamReachLine(r) {
  const missing = r.people - r.verified;
  if (!r.people) return t('reach.teamEmpty', { team: reachName(r) });
  const main = t('reach.team', { r: r.reachable, n: r.people, team: reachName(r) });
  return missing > 0 ? `${main}; ${t('reach.unverified', { k: missing })}` : `${main}; ${t('reach.allVerified')}`;
}

function reachView(entry, teams) {
  if (!entry.data) {
    if (entry.error) return h('p', { class: 'reach reach-error', testid: 'reach-error' }, t('reach.error', { detail: entry.error }));
    return h('p', { class: 'reach reach-pending' }, t('reach.loading'));
  }
  const data = entry.data;
  const rows = (Array.isArray(data.teams) ? data.teams : []).filter((r) => teams.includes(r.team));
  const people = Number(data.people) || 0;
  const reachable = Number(data.reachable) || 0;
  const verified = Number(data.verified) || 0;
  const level = people === 0 || reachable < people ? 'warn' : verified < people ? 'fair' : 'ok';
  const without = rows.flatMap((r) => r.without_verified_channel || []);
  const seen = new Set();
  const names = without.filter((p) => (seen.has(p.id) ? false : seen.add(p.id)));
  const total = people === 0 ? t('reach.totalEmpty')
    : `${t('reach.total', { r: reachable, n: people })}; ${verified < people ? t('reach.unverified', { k: people - verified }) : t('reach.allVerified')}`;
  return h('div', { class: `reach reach-${level}`, 'data-people': String(people), 'data-reachable': String(reachable), 'data-verified': String(verified) },
    h('p', { class: 'reach-title' }, t('reach.title')),
    h('ul', { class: 'reach-list' }, rows.map((r) => h('li', { testid: 'reach-team', 'data-team': r.team }, teamReachLine(r)))),
    h('p', { class: 'reach-total', testid: 'reach-total' }, total),
    names.length ? h('details', { class: 'reach-who', testid: 'reach-without' },
      h('summary', {}, t('reach.who', { n: names.length })),
      h('ul', {}, names.map((p) => h('li', {}, p.name, h('span', { class: 'muted' }, ` — ${reasonText(p.reason)}`))))) : null);
}

// reachPanel returns an element that shows who of the chosen teams can be reached, and a
// function to call whenever the teams change.
export function reachPanel(teams, { testid = 'audience-reach', debounce = true } = {}) {
  const el = h('div', { class: 'reach-slot', testid, 'aria-live': 'polite' });
  const update = (list, { wait = debounce } = {}) => {
    const ids = [...list];
    el.dataset.teams = reachKey(ids);
    if (!ids.length) {
      el.replaceChildren();
      el.dataset.state = 'empty';
      return;
    }
    const draw = () => {
      if (el.dataset.teams !== reachKey(ids)) return;
      const entry = fetchReach(ids);
      el.dataset.state = entry.promise && !entry.data ? 'loading' : 'ready';
      el.replaceChildren(reachView(entry, ids));
      entry.promise?.then(() => {
        if (el.isConnected && el.dataset.teams === reachKey(ids)) {
          el.dataset.state = 'ready';
          el.replaceChildren(reachView(entry, ids));
        }
      });
    };
    clearTimeout(reachTimer);
    const cached = reachCache.get(reachKey(ids));
    if (wait && !cached?.data) {
      el.dataset.state = 'loading';
      el.replaceChildren(h('p', { class: 'reach reach-pending' }, t('reach.loading')));
      reachTimer = setTimeout(draw, REACH_DELAY_MS);
    } else draw();
  };
  update(teams, { wait: false });
  return { el, update };
}

// ---------------------------------------------------------------- through silent mode

const silent = { numbers: null, error: null };

// silentCard offers the alert numbers as a contact card, with how to let them ring
// through silent mode: web push cannot, an SMS or a call from a known contact can.
function silentCard() {
  const el = h('section', { class: 'card silent-card', testid: 'silent-card', 'aria-labelledby': 'silent-title' });
  const draw = () => {
    const n = silent.numbers;
    el.replaceChildren(...[
      h('h2', { id: 'silent-title' }, t('silent.title')),
      h('p', {}, t('silent.lead')),
      n == null ? h('p', { class: 'muted' }, silent.error || t('loading'))
        : n.length === 0 ? h('p', { class: 'muted', testid: 'silent-none' }, t('silent.none'))
          : [h('ul', { class: 'silent-numbers', testid: 'silent-numbers' }, n.map((x) => h('li', {}, x))),
            h('a', { class: 'btn btn-primary btn-block', href: 'api/v1/alert-numbers.vcf', download: 'optimum-bcp-alertas.vcf', testid: 'silent-vcard' }, t('silent.download')),
            h('details', { class: 'silent-how', testid: 'silent-ios' }, h('summary', {}, t('silent.ios')), h('ol', {}, ['silent.ios1', 'silent.ios2', 'silent.ios3'].map((k) => h('li', {}, t(k))))),
            h('details', { class: 'silent-how', testid: 'silent-android' }, h('summary', {}, t('silent.android')), h('ol', {}, ['silent.android1', 'silent.android2', 'silent.android3'].map((k) => h('li', {}, t(k)))))],
    ].flat().filter(Boolean));
  };
  if (silent.numbers == null) {
    api('GET', 'alert-numbers').then((d) => { silent.numbers = Array.isArray(d?.numbers) ? d.numbers : []; silent.error = null; })
      .catch((err) => { silent.error = errorText(err); })
      .finally(() => { if (el.isConnected) draw(); });
  }
  draw();
  return el;
}

// CHANNEL_ORDER is how the one-line reach names the channels.
const CHANNEL_ORDER = ['sms', 'webpush', 'voice', 'email'];

// reachSentence is who an alert to the chosen teams reaches, in one line: "14 personas:
// 14 por SMS, 9 por notificación; ~2 min para el último SMS a la tasa actual". It reads
// the preview's per-channel estimate ({channel, people, rate_per_second, seconds}) when
// the server gives one, and otherwise counts the channels of the teams' rows (a person in
// two teams counts once in the total, and at most the total per channel).
export function reachSentence(data, teams) {
  const people = Number(data?.people) || 0;
  if (!people) return t('reach.totalEmpty');
  const counts = new Map();
  let slowest = null;
  if (Array.isArray(data.estimate) && data.estimate.length) {
    for (const e of data.estimate) {
      if (!e || !e.channel) continue;
      counts.set(e.channel, Number(e.people) || 0);
      const secs = Number(e.seconds);
      if (Number.isFinite(secs) && secs > 0 && (!slowest || secs > slowest.seconds)) slowest = { channel: e.channel, seconds: secs };
    }
  } else {
    const rows = (Array.isArray(data.teams) ? data.teams : []).filter((r) => !teams || teams.includes(r.team));
    for (const r of rows) {
      for (const [ch, n] of Object.entries(r.channels || {})) counts.set(ch, Math.min(people, (counts.get(ch) || 0) + (Number(n) || 0)));
    }
  }
  const parts = [...counts.entries()].filter(([, n]) => n > 0)
    .sort((a, b) => rankChannel(a[0]) - rankChannel(b[0]))
    .map(([ch, n]) => t('reach.by', { n, channel: t(`reach.ch.${ch}`) }));
  let line = tn('reach.people', people);
  if (parts.length) line += `: ${parts.join(', ')}`;
  else line += `: ${t('reach.noChannel')}`;
  if (slowest) line += `; ${t('reach.eta', { time: fmtDuration(slowest.seconds * 1000), channel: t(`reach.last.${slowest.channel}`) })}`;
  return line;
}

function rankChannel(ch) {
  const i = CHANNEL_ORDER.indexOf(ch);
  return i < 0 ? CHANNEL_ORDER.length : i;
}

// reachLine is reachSentence kept up to date for the chosen teams: an element and a
// function to call when the teams change.
export function reachLine(teams, { testid = 'reach-line' } = {}) {
  const el = h('p', { class: 'reach-line', testid, 'aria-live': 'polite' });
  const update = (list) => {
    const ids = [...list];
    const key = reachKey(ids);
    el.dataset.teams = key;
    if (!ids.length) { el.dataset.state = 'empty'; el.textContent = t('v.teams'); return; }
    const entry = fetchReach(ids);
    const draw = () => {
      if (el.dataset.teams !== key) return;
      if (entry.data) { el.dataset.state = 'ready'; el.textContent = reachSentence(entry.data, ids); }
      else if (entry.error) { el.dataset.state = 'error'; el.textContent = t('reach.error', { detail: entry.error }); }
      else { el.dataset.state = 'loading'; el.textContent = t('reach.loading'); }
    };
    draw();
    entry.promise?.then(draw);
  };
  update(teams);
  return { el, update };
}

// forgetReach drops the remembered reachability, so the declare page asks afresh when it
// opens (the directory may have changed since).
export function forgetReach() { reachCache.clear(); }

// forgetDirectory drops what the directory pages remember, at sign-out.
export function forgetDirectory() {
  forgetOrg();
  reachCache.clear();
  silent.numbers = null;
  silent.error = null;
  Object.assign(access, { nav: -1, users: null, error: null, busy: '', problem: null, fields: {}, link: null, forId: null });
  dir.teams = null;
  dir.services = null;
  dir.people = { nav: -1, list: [], next: null, loading: false, error: null, seq: dir.people.seq + 1, loadedQuery: null };
  dir.filters = { q: '', team: '', active: '' };
  dir.form = null;
  dir.teamForm = null;
  dir.teamEdit = null;
  dir.serviceForm = null;
  dir.serviceEdit = null;
  dir.import = null;
  dir.notice = null;
  dir.readiness = { nav: -1, data: null, error: null, loading: false };
  dir.reconfirm = null;
  dir.profile = { nav: -1, person: null, missing: null, error: null, loading: false, draft: null, fieldErrors: {}, problem: null, saving: false, saved: false };
}
