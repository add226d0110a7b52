// OPTIMUM BCP web app: the escalation ladders, #/escaleras (managers and admins).
//
// Each ladder is shown as its steps read aloud (who, on which channels, how long before
// the next step); "Editar" opens its JSON as GET /api/v1/ladders/{id} answers it, and
// saving sends it back: the server checks it with every other ladder and the directory
// and, when it refuses, lists each problem next to the editor and changes nothing.

import { state, t, h, api, show, ProblemError, errorText, teamName, fmtDuration, tn } from './core.js';


const page = { list: null, error: null, editing: null, text: '', doc: null, jsonError: null, jsonOpen: false, problems: [], detail: null, saving: false, notice: null };

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
  Object.assign(page, { editing: l ? l.id : '', text: JSON.stringify(doc, null, 2), doc: structuredClone(doc), jsonError: null, problems: [], detail: null, notice: null });
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
  page.doc = doc;
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

// ---------------------------------------------------------------- the visual editor

const CHANNELS = ['webpush', 'sms', 'voice', 'email'];
const TEAM_ROLES = ['lead', 'member', 'backup'];
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'];
const ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

// minutes reads a duration of the ladder ("30m", "1h30m", "10m0s", "0s") in minutes.
function minutes(s) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(String(s || '').trim());
  if (!m || !String(s).trim()) return '';
  return Math.round(((+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0)) / 6) / 10;
}

// countOwned: "owned" is "any", "all" or a number of acknowledgements, as text.
function countOwned(o) { return /^\d+$/.test(String(o ?? '')); }

function targetKind(x) {
  if (x.team !== undefined) return 'team';
  if (x.service !== undefined) return 'service';
  if (x.person !== undefined) return 'person';
  return 'managers';
}

// check validates the ladder as the person types: path → message, in plain words. The
// server checks it again (with the directory and the other ladders) when it is saved.
function check(doc, isNew) {
  const e = {};
  if (isNew && !ID_RE.test(String(doc.id || ''))) e.id = t('lad.v.id');
  if (!String(doc.name?.es || '').trim()) e['name.es'] = t('lad.v.name');
  const steps = Array.isArray(doc.steps) ? doc.steps : [];
  if (!steps.length) e.steps = t('lad.v.steps');
  steps.forEach((st, i) => {
    const p = `steps[${i}]`;
    if (!(st.targets || []).length) e[`${p}.targets`] = t('lad.v.targets');
    (st.targets || []).forEach((x, j) => {
      const k = targetKind(x);
      if (k !== 'managers' && !String(x[k] || '').trim()) e[`${p}.targets[${j}]`] = t('lad.v.target');
    });
    if (!(st.reminders || []).length) e[`${p}.reminders`] = t('lad.v.reminders');
    (st.reminders || []).forEach((r, j) => {
      if (!(r.channels || []).length) e[`${p}.reminders[${j}].channels`] = t('lad.v.channels');
      const m = minutes(r.after);
      if (m === '' || m < 0) e[`${p}.reminders[${j}].after`] = t('lad.v.minutes');
    });
    const w = minutes(st.wait);
    if (st.wait !== '' && st.wait != null && (w === '' || w <= 0)) e[`${p}.wait`] = t('lad.v.wait');
  });
  return e;
}

// serverProblems are the refused fields of the last save, by path.
function serverProblems() {
  const out = {};
  for (const p of page.problems || []) if (p.field) out[p.field] = p.message;
  return out;
}

function editor() {
  const isNew = page.editing === '';
  const doc = page.doc || JSON.parse(page.text);
  page.doc = doc;
  const area = h('textarea', {
    class: 'code', rows: 18, spellcheck: 'false', testid: 'ladder-json', 'aria-label': t('lad.json'),
    oninput: (ev) => {
      page.text = ev.target.value;
      try {
        page.doc = JSON.parse(page.text);
        page.jsonError = null;
      } catch (err) {
        page.jsonError = t('lad.badJSON', { msg: err.message });
      }
      jsonMsg.textContent = page.jsonError || '';
      jsonMsg.hidden = !page.jsonError;
    },
  });
  area.value = page.text;
  const jsonMsg = h('p', { class: 'field-error', testid: 'ladder-json-error', hidden: !page.jsonError }, page.jsonError || '');
  const msgs = new Map(); // path → error element
  const server = serverProblems();
  const msg = (path) => {
    const el = h('p', { class: 'field-error', testid: `lerr-${path}`, 'data-path': path, hidden: true });
    msgs.set(path, el);
    return el;
  };
  // sync writes the doc to the JSON view and shows what is wrong now.
  const sync = () => {
    page.text = JSON.stringify(page.doc, null, 2);
    area.value = page.text;
    const errs = { ...check(page.doc, isNew) };
    for (const [path, el] of msgs) {
      const text = errs[path] || server[path] || '';
      el.textContent = text;
      el.hidden = !text;
    }
  };
  const redraw = () => { page.text = JSON.stringify(page.doc, null, 2); renderLadders(); };
  const num = (value, onset, props = {}) => h('input', {
    class: 'input input-num', type: 'number', inputmode: 'numeric', min: '0', step: 'any', value: String(value), ...props,
    oninput: (e) => { onset(e.target.value); sync(); },
  });
  const text = (value, onset, props = {}) => h('input', {
    class: 'input', type: 'text', value: value || '', ...props,
    oninput: (e) => { onset(e.target.value); sync(); },
  });
  const nameOf = (x) => (PRIORITIES.includes(x) ? x : CHANNELS.includes(x) ? t(`chan.${x}`) : t(`trole.${x}`));
  // checks are check boxes for a list; get reads the list as it is now.
  const checks = (all, get, label, onset, testid) => h('div', { class: 'lad-checks', role: 'group', 'aria-label': label, testid },
    all.map((x) => h('label', { class: 'check check-small' },
      h('input', { type: 'checkbox', checked: (get() || []).includes(x), onchange: (e) => {
        const set = new Set(get() || []);
        if (e.target.checked) set.add(x); else set.delete(x);
        onset(all.filter((y) => set.has(y)));
        sync();
      } }),
      h('span', {}, nameOf(x)))));
  const teams = state.meta?.teams || [];

  const stepCard = (st, i) => {
    const p = `steps[${i}]`;
    st.targets = st.targets || [];
    st.reminders = st.reminders || [];
    const targetRow = (x, j) => {
      const kind = targetKind(x);
      const kindSel = h('select', {
        class: 'input', 'aria-label': t('lad.targetKind'), testid: 'lad-target-kind',
        onchange: (e) => { st.targets[j] = e.target.value === 'team' ? { team: teams[0]?.id || '' } : e.target.value === 'managers' ? { managers_of_paged: true } : { [e.target.value]: '' }; redraw(); },
      }, ['team', 'service', 'person', 'managers'].map((k) => h('option', { value: k, selected: k === kind }, t(`lad.kind.${k}`))));
      let value = null;
      if (kind === 'team') {
        value = [h('select', { class: 'input', 'aria-label': t('lad.kind.team'), testid: 'lad-target-team', onchange: (e) => { x.team = e.target.value; sync(); } },
          teams.some((tm) => tm.id === x.team) ? null : h('option', { value: x.team, selected: true }, x.team || '—'),
          teams.map((tm) => h('option', { value: tm.id, selected: tm.id === x.team }, teamName(tm.id)))),
        checks(TEAM_ROLES, () => x.roles, t('lad.rolesQ'), (v) => { if (v.length) x.roles = v; else delete x.roles; }, 'lad-target-roles')];
      } else if (kind !== 'managers') {
        value = text(x[kind], (v) => { x[kind] = v; }, { 'aria-label': t(`lad.kind.${kind}`), testid: `lad-target-${kind}` });
      }
      return h('li', { class: 'lad-row', testid: 'lad-target' }, kindSel, value, msg(`${p}.targets[${j}]`), msg(`${p}.targets[${j}].team`),
        h('button', { type: 'button', class: 'btn btn-small', testid: 'lad-target-remove', 'aria-label': t('lad.remove'), onclick: () => { st.targets.splice(j, 1); redraw(); } }, '✕'));
    };
    const reminderRow = (r, j) => h('li', { class: 'lad-row', testid: 'lad-reminder' },
      h('label', { class: 'label label-inline' }, t('lad.afterMin'), num(minutes(r.after), (v) => { r.after = `${Number(v) || 0}m`; }, { testid: 'lad-reminder-after' })),
      msg(`${p}.reminders[${j}].after`),
      checks(CHANNELS, () => r.channels, t('lad.channelsQ'), (v) => { r.channels = v; }, 'lad-reminder-channels'),
      msg(`${p}.reminders[${j}].channels`),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'lad-reminder-remove', 'aria-label': t('lad.remove'), onclick: () => { st.reminders.splice(j, 1); redraw(); } }, '✕'));
    const ownedSel = h('select', { class: 'input', testid: 'lad-owned', 'aria-label': t('lad.ownedQ'),
      onchange: (e) => { st.owned = e.target.value === 'n' ? '2' : e.target.value; redraw(); } },
    ['any', 'all', 'n'].map((k) => h('option', { value: k, selected: (countOwned(st.owned) ? 'n' : st.owned || 'any') === k }, t(`lad.owned.q.${k}`))));
    return h('li', { class: 'card lad-step', testid: 'lad-step' },
      h('h4', {}, t('lad.stepN', { n: i + 1 })),
      h('p', { class: 'label' }, t('lad.targets')),
      h('ul', { class: 'lad-list' }, st.targets.map(targetRow)), msg(`${p}.targets`),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'lad-target-add', onclick: () => { st.targets.push({ team: teams[0]?.id || '' }); redraw(); } }, `+ ${t('lad.addTarget')}`),
      h('p', { class: 'label' }, t('lad.reminders')),
      h('ul', { class: 'lad-list' }, st.reminders.map(reminderRow)), msg(`${p}.reminders`),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'lad-reminder-add', onclick: () => { st.reminders.push({ after: '5m', channels: ['sms'] }); redraw(); } }, `+ ${t('lad.addReminder')}`),
      h('div', { class: 'lad-row' },
        h('label', { class: 'label label-inline' }, t('lad.waitMin'), num(minutes(st.wait), (v) => { if (v === '') delete st.wait; else st.wait = `${Number(v)}m`; }, { testid: 'lad-wait' })),
        msg(`${p}.wait`),
        h('label', { class: 'label label-inline' }, t('lad.ownedQ'), ownedSel),
        countOwned(st.owned) ? num(st.owned, (v) => { st.owned = String(Math.max(1, Math.floor(Number(v)) || 1)); }, { testid: 'lad-owned-n', 'aria-label': t('lad.ownedN'), min: '1' }) : null,
        msg(`${p}.owned`)),
      h('button', { type: 'button', class: 'btn btn-small', testid: 'lad-step-remove', onclick: () => { doc.steps.splice(i, 1); redraw(); } }, t('lad.removeStep')));
  };

  doc.steps = Array.isArray(doc.steps) ? doc.steps : [];
  doc.name = doc.name || {};
  const visual = h('div', { class: 'lad-visual stack', testid: 'ladder-visual' },
    isNew ? h('div', { class: 'field' }, h('label', { class: 'label' }, t('lad.id'), text(doc.id, (v) => { doc.id = v.trim(); }, { testid: 'lad-id' })), msg('id')) : null,
    h('div', { class: 'form-grid' },
      h('div', { class: 'field' }, h('label', { class: 'label' }, t('lad.nameEs'), text(doc.name.es, (v) => { doc.name.es = v; }, { testid: 'lad-name-es' })), msg('name.es')),
      h('div', { class: 'field' }, h('label', { class: 'label' }, t('lad.nameEn'), text(doc.name.en, (v) => { doc.name.en = v; }, { testid: 'lad-name-en' })), msg('name.en'))),
    h('div', { class: 'field' }, h('p', { class: 'label' }, t('lad.priorities')), checks(PRIORITIES, () => doc.priorities, t('lad.priorities'), (v) => { doc.priorities = v; }, 'lad-priorities'), msg('priorities')),
    h('div', { class: 'field' }, h('label', { class: 'label' }, t('lad.servicesQ'),
      text((doc.services || []).join(', '), (v) => { doc.services = v.split(',').map((x) => x.trim()).filter(Boolean); }, { testid: 'lad-services' })), msg('services')),
    h('ol', { class: 'lad-steps' }, doc.steps.map(stepCard)), msg('steps'),
    h('button', { type: 'button', class: 'btn', testid: 'lad-step-add', onclick: () => { doc.steps.push({ targets: [{ team: teams[0]?.id || '' }], reminders: [{ after: '0s', channels: ['webpush', 'sms'] }], wait: '15m', owned: 'any' }); redraw(); } }, `+ ${t('lad.addStep')}`),
    h('div', { class: 'form-grid' },
      h('div', { class: 'field' }, h('label', { class: 'label' }, t('lad.repeatQ'), num(doc.repeat || 0, (v) => { doc.repeat = Math.max(0, Math.floor(Number(v) || 0)); }, { testid: 'lad-repeat' })), msg('repeat')),
      h('div', { class: 'field' }, h('label', { class: 'label' }, t('lad.thenQ'), h('select', { class: 'input', testid: 'lad-then', onchange: (e) => { doc.then = e.target.value; sync(); } },
        h('option', { value: '' }, t('lad.thenNone')),
        (page.list || []).filter((l) => l.id !== doc.id).map((l) => h('option', { value: l.id, selected: l.id === doc.then }, (state.lang === 'en' ? l.name?.en : l.name?.es) || l.id)))), msg('then'))));

  const root = h('section', { class: 'card ladder-editor', testid: 'ladder-editor' },
    h('h2', {}, isNew ? t('lad.new') : `${t('lad.edit')}: ${page.editing}`),
    page.detail ? h('div', { class: 'alert alert-error', role: 'alert', testid: 'ladder-problem' },
      h('p', {}, page.detail),
      page.problems.length ? h('ul', {}, page.problems.map((p) => h('li', { testid: 'ladder-problem-item' }, h('code', {}, p.field), ': ', p.message))) : null) : null,
    visual,
    h('details', { class: 'lad-json', testid: 'ladder-json-view', open: !!page.jsonOpen, ontoggle: (e) => {
      page.jsonOpen = e.target.open;
      // Closing the JSON view shows what was typed there in the form.
      if (!e.target.open && !page.jsonError) renderLadders();
    } },
      h('summary', { testid: 'ladder-json-toggle' }, t('lad.json')), area, jsonMsg),
    h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-primary', testid: 'ladder-save', disabled: page.saving, onclick: () => save(isNew) },
        page.saving ? t('lad.saving') : t('lad.save')),
      ' ',
      h('button', { type: 'button', class: 'btn', testid: 'ladder-cancel', onclick: () => { page.editing = null; renderLadders(); } }, t('lad.cancel')),
      ' ',
      isNew ? null : h('button', { type: 'button', class: 'btn btn-danger', testid: 'ladder-delete', onclick: () => remove(page.editing) }, t('lad.delete'))));
  queueMicrotask(sync);
  return root;
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
  Object.assign(page, { list: null, error: null, editing: null, text: '', doc: null, jsonError: null, jsonOpen: false, problems: [], detail: null, saving: false, notice: null });
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
    // The editor waits for the ladders: drawn before them, it would be drawn again when
    // they come, under the fingers of someone typing (the focus and a keystroke lost).
    page.list == null && page.error == null ? null : page.editing != null ? editor() : h('p', {},
      h('button', { type: 'button', class: 'btn btn-primary', testid: 'ladder-new', onclick: () => { edit(null); page.editing = ''; page.text = JSON.stringify(example, null, 2); page.doc = structuredClone(example); renderLadders(); } }, t('lad.new'))),
    page.list == null ? h('p', { class: 'loading' }, t('loading'))
      : page.list.length ? page.list.map(ladderCard) : h('p', { class: 'muted' }, t('lad.empty'))));
}
