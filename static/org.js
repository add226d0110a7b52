// OPTIMUM BCP web app: the organisation as it is (issue 18) — the sites page and the
// access page of the directory, and the scope card of a user (the teams and sites a
// user is limited to). Its strings are in org-i18n.js, which i18n.js merges into I18N.
//
// Routes (under the directory's frame, drawn by directory.js):
//   #/directorio/sitios     the sites: name, city, time zone, in use or not, and who and
//                           which teams are at each; managers create and edit them
//                           (a manager limited to sites edits only theirs, as the API says)
//   #/directorio/accesos    admins: every user with their role and what they are limited to
//
// The scope card is on the person form (directory.js, "Acceso"): an admin limits a user
// to teams and sites with PATCH /api/v1/users/{id} {"scope": {...}}.

import { state, t, h, $, show, view, api, ProblemError, errorText, hashParts, can, nav, tn } from './core.js';

const SITE_FIELDS = ['id', 'name', 'city', 'time_zone', 'active'];

const org = {
  sites: null, // [{id, name, city, time_zone, active, people}]
  sitesNav: -1,
  sitesError: null,
  teams: null, // [{id, name_es, name_en, sites}]
  // at: site id → {people, more, error} of the site's people, loaded when opened
  at: new Map(),
  open: new Set(), // site ids whose people and teams are shown
  form: null, // {id (null: new), draft, fieldErrors, problem, saving, idEdited}
  notice: null, // {text, nav}
  users: null,
  usersNav: -1,
  usersError: null,
};

function onRoute(path) { return hashParts().path === path; }

// zones is the IANA time zones the browser knows, with the current value kept in the
// list even when the browser does not know it.
function zones(current) {
  let list = [];
  try { list = Intl.supportedValuesOf('timeZone'); } catch { list = ['America/Mexico_City', 'America/Bogota', 'America/Lima', 'Europe/Madrid', 'UTC']; }
  if (current && !list.includes(current)) list = [current, ...list];
  return list;
}

function slugify(s) {
  return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

function teamLabel(team) {
  return (state.lang === 'en' ? team.name_en : team.name_es) || team.name_es || team.name_en || team.id;
}

// myScope is the signed-in user's limit, when there is one (admins have none).
function myScope() {
  const sc = state.me?.scope;
  if (!sc || state.me?.role === 'admin' || ((sc.teams || []).length + (sc.sites || []).length) === 0) return null;
  return { teams: sc.teams || [], sites: sc.sites || [] };
}

// canEditSite follows the API: managers and admins; a manager limited to teams and sites
// only their sites, and no new one.
function canEditSite(id) {
  if (!can('manager')) return false;
  const sc = myScope();
  return !sc || (id != null && sc.sites.includes(id));
}

// ---------------------------------------------------------------- loads

async function loadSites() {
  org.sitesNav = nav.seq;
  try {
    const [sites, teams] = await Promise.all([api('GET', 'sites'), api('GET', 'teams')]);
    org.sites = Array.isArray(sites) ? sites : [];
    org.teams = Array.isArray(teams) ? teams : [];
    org.sitesError = null;
    org.at.clear();
    syncMeta();
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    org.sitesError = errorText(err);
  }
}

// syncMeta keeps the sites the forms offer (the declare form, the person form) in step
// with what was just saved: the active ones.
function syncMeta() {
  if (!state.meta || !org.sites) return;
  state.meta.sites = org.sites.filter((s) => s.active).map((s) => ({ id: s.id, name: s.name, city: s.city }));
}

async function loadPeopleAt(id) {
  const entry = { people: null, more: false, error: null };
  org.at.set(id, entry);
  try {
    const list = await api('GET', `people?site=${encodeURIComponent(id)}&limit=200`);
    entry.people = Array.isArray(list) ? list : [];
    entry.more = entry.people.length === 200;
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    entry.error = errorText(err);
  }
  if (onRoute('directorio/sitios')) renderSitesAgain();
}

// ---------------------------------------------------------------- the sites page

let frameOf = null;

// renderSites draws #/directorio/sitios inside the directory's frame.
export function renderSites(frame) {
  frameOf = frame;
  if (org.sitesNav !== nav.seq) {
    if (!org.sites) show(frame('sites', h('p', { class: 'loading' }, t('loading'))));
    loadSites().then(() => { if (onRoute('directorio/sitios')) renderSitesAgain(); });
    if (!org.sites) return;
  }
  if (!org.sites) {
    show(frame('sites', h('p', { class: 'alert alert-error', role: 'alert', testid: 'sites-error' }, org.sitesError || t('loading'))));
    return;
  }
  const notice = org.notice && org.notice.nav === nav.seq ? h('p', { class: 'alert alert-ok', role: 'status', testid: 'site-notice' }, org.notice.text) : null;
  const editing = org.form && org.form.id != null ? org.form : null;
  const rows = org.sites.map((site) => (editing && editing.id === site.id ? siteEditRow(site, editing) : siteRow(site)));
  const sc = myScope();
  show(frame('sites',
    h('p', { class: 'lead' }, t('site.lead')),
    notice,
    org.sitesError ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'sites-error' }, org.sitesError) : null,
    org.sites.length ? h('table', { class: 'dtable sites-table', testid: 'sites-list' },
      h('caption', { class: 'sr-only' }, t('site.caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('site.name')), h('th', { scope: 'col' }, t('site.city')), h('th', { scope: 'col' }, t('site.time_zone')),
        h('th', { scope: 'col' }, t('site.people')), h('th', { scope: 'col' }, t('site.state')),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('dir.actions'))))),
      h('tbody', {}, rows)) : h('p', { class: 'muted', testid: 'sites-empty' }, t('site.none')),
    canEditSite(null) ? siteCreateForm()
      : h('p', { class: 'muted', testid: 'sites-readonly' }, can('manager') && sc ? t('site.scoped', { sites: sc.sites.map(siteName).join(', ') || '—' }) : t('dir.readonly'))));
}

function renderSitesAgain() { if (frameOf) renderSites(frameOf); }

function siteName(id) {
  return org.sites?.find((s) => s.id === id)?.name || state.meta?.sites?.find((s) => s.id === id)?.name || id;
}

function siteRow(site) {
  const open = org.open.has(site.id);
  const rows = [h('tr', { testid: 'site-row', 'data-id': site.id, 'data-active': String(site.active) },
    h('td', { 'data-label': t('site.name') }, h('strong', { testid: 'site-name' }, site.name), h('span', { class: 'sub' }, h('code', {}, site.id))),
    h('td', { 'data-label': t('site.city'), testid: 'site-city' }, site.city),
    h('td', { 'data-label': t('site.time_zone'), testid: 'site-tz' }, site.time_zone),
    h('td', { 'data-label': t('site.people'), testid: 'site-people' }, tn('people', site.people)),
    h('td', { 'data-label': t('site.state'), testid: 'site-state' }, site.active ? t('site.active') : t('site.inactive')),
    h('td', { class: 'cell-actions' },
      h('button', {
        type: 'button', class: 'btn btn-small', testid: 'site-who', 'aria-expanded': String(open), 'aria-controls': `site-at-${site.id}`,
        onclick: () => {
          if (open) org.open.delete(site.id);
          else {
            org.open.add(site.id);
            if (!org.at.has(site.id)) loadPeopleAt(site.id);
          }
          renderSitesAgain();
          $(`[data-id="${CSS.escape(site.id)}"] [data-testid="site-who"]`, view())?.focus();
        },
      }, open ? t('site.hideWho') : t('site.showWho')),
      canEditSite(site.id) ? h('button', {
        type: 'button', class: 'btn btn-small', testid: 'site-edit', 'aria-label': t('site.editOne', { name: site.name }),
        onclick: () => {
          org.form = { id: site.id, draft: { name: site.name, city: site.city, time_zone: site.time_zone, active: site.active }, fieldErrors: {}, problem: null, saving: false };
          renderSitesAgain();
          $('#se-name', view())?.focus();
        },
      }, t('dir.edit')) : null))];
  if (open) rows.push(h('tr', { class: 'site-at-row', id: `site-at-${site.id}` }, h('td', { colspan: '6' }, whoIsAt(site))));
  return rows;
}

// whoIsAt lists the teams tied to the site and the people who have it (primary or not).
function whoIsAt(site) {
  const teams = (org.teams || []).filter((tm) => (tm.sites || []).includes(site.id));
  const entry = org.at.get(site.id);
  let people;
  if (!entry || (!entry.people && !entry.error)) people = h('p', { class: 'loading' }, t('loading'));
  else if (entry.error) people = h('p', { class: 'alert alert-error', role: 'alert' }, entry.error);
  else if (!entry.people.length) people = h('p', { class: 'muted', testid: 'site-nobody' }, t('site.nobody'));
  else {
    people = h('ul', { class: 'chips', testid: 'site-people-list' }, entry.people.map((p) => h('li', { class: 'chip', testid: 'site-person', 'data-id': p.id },
      can('manager') ? h('a', { href: `#/directorio/personas/${encodeURIComponent(p.id)}` }, p.name) : p.name,
      p.primary_site === site.id ? h('span', { class: 'chip-role' }, ` · ${t('site.primary')}`) : null,
      p.active === false ? h('span', { class: 'chip-role' }, ` · ${t('site.personInactive')}`) : null)));
  }
  return h('div', { class: 'site-at', testid: 'site-at', 'data-site': site.id },
    h('h3', { class: 'label' }, t('site.teamsHere')),
    teams.length ? h('ul', { class: 'chips', testid: 'site-teams' }, teams.map((tm) => h('li', { class: 'chip', testid: 'site-team', 'data-id': tm.id }, teamLabel(tm))))
      : h('p', { class: 'muted', testid: 'site-no-teams' }, t('site.noTeams')),
    h('h3', { class: 'label' }, t('site.peopleHere')),
    people,
    entry?.more ? h('p', { class: 'muted' }, t('site.more')) : null);
}

// siteFields draws the fields of a site form (create or edit); prefix keeps ids apart.
function siteFields(f, prefix, { withId = false, withActive = false } = {}) {
  const d = f.draft;
  const touched = (name) => {
    if (!f.fieldErrors[name]) return;
    delete f.fieldErrors[name];
    const el = $(`#${prefix}err-${name}`, view());
    if (el) { el.hidden = true; el.textContent = ''; el.removeAttribute('role'); }
    $(`#${prefix}-${name}`, view())?.removeAttribute('aria-invalid');
  };
  const wrap = (name, control, hint) => h('div', { class: 'field', 'data-field': name },
    h('label', { for: `${prefix}-${name}`, class: 'label' }, t(`site.${name}`)),
    hint ? h('p', { class: 'hint', id: `${prefix}hint-${name}` }, hint) : null,
    control,
    errorLine(`${prefix}err-${name}`, f.fieldErrors[name], `${prefix}err-${name}`));
  const input = (name, { hint, autocomplete = 'off' } = {}) => {
    const el = h('input', {
      id: `${prefix}-${name}`, name, class: 'input', testid: `${prefix}-${name}`, autocomplete,
      'aria-invalid': f.fieldErrors[name] ? 'true' : null,
      'aria-describedby': `${hint ? `${prefix}hint-${name} ` : ''}${prefix}err-${name}`,
      oninput: (e) => {
        d[name] = e.target.value;
        touched(name);
        if (name === 'id') f.idEdited = e.target.value !== '';
        if (name === 'name' && withId && !f.idEdited) {
          d.id = slugify(e.target.value);
          const idEl = $(`#${prefix}-id`, view());
          if (idEl) idEl.value = d.id;
        }
      },
    });
    el.value = d[name] || '';
    return wrap(name, el, hint);
  };
  const tz = h('select', {
    id: `${prefix}-time_zone`, name: 'time_zone', class: 'input', testid: `${prefix}-time_zone`,
    'aria-invalid': f.fieldErrors.time_zone ? 'true' : null, 'aria-describedby': `${prefix}err-time_zone`,
    onchange: (e) => { d.time_zone = e.target.value; touched('time_zone'); },
  }, zones(d.time_zone).map((z) => h('option', { value: z, selected: z === d.time_zone }, z)));
  const fields = [input('name', { autocomplete: 'organization' }), input('city'), wrap('time_zone', tz)];
  if (withId) fields.push(input('id', { hint: t('site.id.hint') }));
  if (withActive) {
    fields.push(h('div', { class: 'field', 'data-field': 'active' },
      h('label', { class: 'check', testid: `${prefix}-active` },
        h('input', {
          id: `${prefix}-active`, type: 'checkbox', checked: !!d.active, 'aria-describedby': `${prefix}hint-active ${prefix}err-active`,
          onchange: (e) => { d.active = e.target.checked; touched('active'); },
        }),
        h('span', {}, t('site.inUse'))),
      h('p', { class: 'hint', id: `${prefix}hint-active` }, t('site.inUse.hint')),
      errorLine(`${prefix}err-active`, f.fieldErrors.active, `${prefix}err-active`)));
  }
  return fields;
}

function errorLine(id, msg, testid) {
  return h('p', { class: 'field-error', id, testid, hidden: !msg, role: msg ? 'alert' : null }, msg || '');
}

// applyProblem puts a problem's field errors next to their fields, the rest on top.
function applyProblem(f, err) {
  f.fieldErrors = {};
  if (err instanceof ProblemError) {
    const extra = [];
    for (const e of err.problem.errors || []) {
      const field = String(e.field || '').split(/[.[]/)[0];
      if (SITE_FIELDS.includes(field)) f.fieldErrors[field] = f.fieldErrors[field] ? `${f.fieldErrors[field]} ${e.message}` : e.message;
      else extra.push(e.field ? `${e.field}: ${e.message}` : e.message);
    }
    f.problem = [err.problem.detail, ...extra].join(' ');
  } else f.problem = errorText(err);
}

async function saveSite(f) {
  if (f.saving) return;
  const d = f.draft;
  const body = { name: (d.name || '').trim(), city: (d.city || '').trim(), time_zone: d.time_zone || '' };
  if (f.id == null) {
    if ((d.id || '').trim()) body.id = d.id.trim();
  } else body.active = !!d.active;
  f.saving = true;
  f.problem = null;
  renderSitesAgain();
  try {
    const saved = f.id == null ? await api('POST', 'sites', { body }) : await api('PUT', `sites/${encodeURIComponent(f.id)}`, { body });
    org.form = null;
    org.notice = { text: t(f.id == null ? 'site.created' : 'site.saved', { name: saved.name }), nav: nav.seq };
    await loadSites();
  } catch (err) {
    f.saving = false;
    if (err instanceof ProblemError && err.status === 401) return;
    applyProblem(f, err);
  }
  if (!onRoute('directorio/sitios')) return;
  renderSitesAgain();
  if (org.form === f) {
    const first = $('[aria-invalid="true"]', view()) || $('[data-testid="site-form-error"]', view());
    first?.scrollIntoView({ block: 'center' });
    if (first?.matches('input, select')) first.focus();
  } else $('[data-testid="site-notice"]', view())?.focus?.();
}

function siteEditRow(site, f) {
  return h('tr', { testid: 'site-row', 'data-id': site.id, class: 'editing' },
    h('td', { colspan: '6' },
      h('form', {
        class: 'stack site-form', testid: 'site-edit-form', novalidate: true, 'aria-label': t('site.editOne', { name: site.name }),
        onsubmit: (e) => { e.preventDefault(); saveSite(f); },
      },
      f.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'site-form-error' }, f.problem) : null,
      h('p', {}, h('code', {}, site.id), ' · ', tn('people', site.people)),
      h('div', { class: 'form-grid' }, ...siteFields(f, 'se', { withActive: true })),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', testid: 'site-save', disabled: f.saving }, f.saving ? t('dir.saving') : t('dir.save')),
        h('button', { type: 'button', class: 'btn', testid: 'site-cancel', onclick: () => { org.form = null; renderSitesAgain(); } }, t('dir.cancel'))))));
}

function siteCreateForm() {
  if (!org.form || org.form.id != null) {
    if (!org.form) org.form = { id: null, draft: { id: '', name: '', city: '', time_zone: state.meta?.time_zone || 'America/Mexico_City' }, fieldErrors: {}, problem: null, saving: false, idEdited: false };
    else return h('p', { class: 'muted' }, t('site.finishEdit'));
  }
  const f = org.form;
  return h('form', {
    class: 'card stack create-form', testid: 'site-form', novalidate: true, 'aria-labelledby': 'site-new-title',
    onsubmit: (e) => { e.preventDefault(); saveSite(f); },
  },
  h('h2', { id: 'site-new-title' }, t('site.new')),
  f.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'site-form-error' }, f.problem) : null,
  h('div', { class: 'form-grid' }, ...siteFields(f, 'sf', { withId: true })),
  h('button', { type: 'submit', class: 'btn btn-primary', testid: 'site-create', disabled: f.saving }, f.saving ? t('dir.saving') : t('site.create')));
}

// ---------------------------------------------------------------- scope

// scopeText says what a user is limited to, in words: "Tecnología · Torre Norte", or
// that they see the whole organisation.
export function scopeText(user, teams = org.teams || []) {
  const sc = user?.scope;
  const n = (sc?.teams || []).length + (sc?.sites || []).length;
  if (user?.role === 'admin' || !n) return t('scope.none');
  const teamNames = (sc.teams || []).map((id) => { const tm = teams.find((x) => x.id === id); return tm ? teamLabel(tm) : id; });
  return t('scope.limited', { what: [...teamNames, ...(sc.sites || []).map(siteName)].join(' · ') });
}

// scope is what the scope card of the person being edited knows.
const scope = { forUser: null, draft: null, fieldErrors: {}, problem: null, saving: false, saved: false };

// scopeCard limits a user (not an admin) to teams and sites, for admins: check boxes of
// the teams (teams: the directory's) and of the sites; none checked lifts the limit.
// redraw draws the person form again; reload reloads the users after a change.
export function scopeCard(user, teams, redraw, reload) {
  if (!user || user.disabled_at) return null;
  if (scope.forUser !== user.id) {
    Object.assign(scope, {
      forUser: user.id, draft: { teams: [...(user.scope?.teams || [])], sites: [...(user.scope?.sites || [])] },
      fieldErrors: {}, problem: null, saving: false, saved: false,
    });
  }
  const d = scope.draft;
  if (!org.sites && org.sitesNav !== nav.seq) loadSites().then(redraw);
  const sites = [...(org.sites || state.meta?.sites || [])];
  for (const id of d.sites) if (!sites.some((s) => s.id === id)) sites.push({ id, name: id });
  const teamList = [...(teams || [])];
  for (const id of d.teams) if (!teamList.some((x) => x.id === id)) teamList.push({ id, name_es: id, name_en: id });
  const current = h('p', { testid: 'scope-current', 'data-limited': String(((user.scope?.teams || []).length + (user.scope?.sites || []).length) > 0 && user.role !== 'admin') }, scopeText(user, teams));
  if (user.role === 'admin') {
    return h('section', { class: 'card scope-card', testid: 'scope-card', 'aria-labelledby': 'scope-title' },
      h('h2', { id: 'scope-title' }, t('scope.title')), current, h('p', { class: 'muted' }, t('scope.admin')));
  }
  const box = (kind, list, label) => {
    const key = kind === 'teams' ? 'scope.teams' : 'scope.sites';
    const msg = Object.entries(scope.fieldErrors).filter(([k]) => k === key || k.startsWith(`${key}[`)).map(([, v]) => v).join(' ');
    return h('fieldset', { class: 'field', testid: `scope-${kind}`, 'aria-describedby': `scopeerr-${kind}` },
      h('legend', { class: 'label' }, t(`scope.${kind}`)),
      list.length ? h('div', { class: 'checks' }, list.map((x) => h('label', { class: 'check', testid: `scope-${kind}-${x.id}` },
        h('input', {
          type: 'checkbox', value: x.id, checked: d[kind].includes(x.id),
          onchange: (e) => {
            d[kind] = e.target.checked ? [...d[kind], x.id] : d[kind].filter((v) => v !== x.id);
            scope.saved = false;
          },
        }),
        h('span', {}, label(x))))) : h('p', { class: 'muted' }, t(`scope.no.${kind}`)),
      errorLine(`scopeerr-${kind}`, msg, `scope-error-${kind}`));
  };
  return h('section', { class: 'card scope-card', testid: 'scope-card', 'aria-labelledby': 'scope-title' },
    h('h2', { id: 'scope-title' }, t('scope.title')),
    current,
    h('p', { class: 'hint' }, t('scope.hint')),
    scope.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'scope-error' }, scope.problem) : null,
    scope.saved ? h('p', { class: 'alert alert-ok', role: 'status', testid: 'scope-saved' }, t('scope.saved')) : null,
    box('teams', teamList, teamLabel),
    box('sites', sites, (s) => (s.active === false ? `${s.name} (${t('site.inactive')})` : s.name)),
    h('p', { class: 'work-buttons' },
      h('button', {
        type: 'button', class: 'btn btn-primary', testid: 'scope-save', disabled: scope.saving,
        onclick: async () => {
          scope.saving = true;
          scope.problem = null;
          scope.fieldErrors = {};
          scope.saved = false;
          redraw();
          try {
            const saved = await api('PATCH', `users/${encodeURIComponent(user.id)}`, { body: { scope: { teams: d.teams, sites: d.sites } } });
            scope.saving = false;
            scope.saved = true;
            scope.draft = { teams: [...(saved?.scope?.teams || [])], sites: [...(saved?.scope?.sites || [])] };
            reload(); // the users again, so the card and the access page show the new limit
            return;
          } catch (err) {
            scope.saving = false;
            if (err instanceof ProblemError && err.status === 401) return;
            scope.problem = errorText(err);
            if (err instanceof ProblemError) for (const e of err.problem.errors || []) scope.fieldErrors[e.field] = e.message;
          }
          redraw();
        },
      }, scope.saving ? t('dir.saving') : t('scope.save')),
      h('button', {
        type: 'button', class: 'btn', testid: 'scope-clear', disabled: scope.saving,
        onclick: () => { d.teams = []; d.sites = []; scope.saved = false; redraw(); },
      }, t('scope.clear'))));
}

// ---------------------------------------------------------------- the access page

async function loadUsers() {
  org.usersNav = nav.seq;
  try {
    const [users, teams] = await Promise.all([api('GET', 'users'), org.teams ? org.teams : api('GET', 'teams'), org.sites ? null : loadSites()]);
    org.users = Array.isArray(users) ? users : [];
    if (Array.isArray(teams)) org.teams = teams;
    org.usersError = null;
  } catch (err) {
    if (err instanceof ProblemError && err.status === 401) return;
    org.usersError = errorText(err);
  }
}

// renderAccess draws #/directorio/accesos: every user, their role and their limit.
export function renderAccess(frame) {
  if (org.usersNav !== nav.seq) {
    if (!org.users) show(frame('access', h('p', { class: 'loading' }, t('loading'))));
    loadUsers().then(() => { if (onRoute('directorio/accesos')) renderAccess(frame); });
    if (!org.users) return;
  }
  if (!org.users) {
    show(frame('access', h('p', { class: 'alert alert-error', role: 'alert' }, org.usersError || t('loading'))));
    return;
  }
  show(frame('access',
    h('p', { class: 'lead' }, t('users.lead')),
    org.usersError ? h('p', { class: 'alert alert-error', role: 'alert' }, org.usersError) : null,
    !org.users.length ? h('p', { class: 'muted', testid: 'users-none' }, t('users.none')) : h('table', { class: 'dtable', testid: 'users-list' },
      h('caption', { class: 'sr-only' }, t('users.caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('users.name')), h('th', { scope: 'col' }, t('users.role')),
        h('th', { scope: 'col' }, t('users.scope')), h('th', { scope: 'col' }, t('users.state')))),
      h('tbody', {}, org.users.map((u) => h('tr', { testid: 'user-row', 'data-email': u.email, 'data-limited': String(u.role !== 'admin' && ((u.scope?.teams || []).length + (u.scope?.sites || []).length) > 0) },
        h('td', { 'data-label': t('users.name') },
          u.person_id ? h('a', { href: `#/directorio/personas/${encodeURIComponent(u.person_id)}`, testid: 'user-person' }, u.name || u.email) : (u.name || u.email),
          h('span', { class: 'sub' }, u.email)),
        h('td', { 'data-label': t('users.role'), testid: 'user-role' }, t(`role.${u.role}`)),
        h('td', { 'data-label': t('users.scope'), testid: 'user-scope' }, scopeText(u)),
        h('td', { 'data-label': t('users.state') }, u.disabled_at ? t('users.disabled') : t('users.active'))))))));
}

// forgetOrg drops what this module knows, on sign-out.
export function forgetOrg() {
  Object.assign(org, { sites: null, sitesNav: -1, sitesError: null, teams: null, form: null, notice: null, users: null, usersNav: -1, usersError: null });
  org.at.clear();
  org.open.clear();
  Object.assign(scope, { forUser: null, draft: null, fieldErrors: {}, problem: null, saving: false, saved: false });
}
