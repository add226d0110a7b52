// OPTIMUM BCP web app: drills (#/simulacros). The list of plans with "start now", the
// recent runs, a form to plan a drill, and the live board of a run
// (#/simulacros/<run id>): who was reached, on which channel, who acknowledged, who is
// pending, against each success criterion. The board re-reads GET
// /api/v1/drill-runs/<id> when the stream carries an event of the run's incident (or a
// drill event), at most once a second.

import { state, t, teamName, h, show, focusHeading, fmtTime, api, errorText, ProblemError, hashParts, nav } from './core.js';
import { teamChatsList } from './chat.js'; // team chats (issue 17)

const ROLES = ['lead', 'member', 'backup'];
const REFRESH_MS = 1000;

const board = { runId: null, data: null, timer: 0, last: 0, loading: false, error: null, cancelling: false };
let list = { plans: null, runs: null, error: null, form: null, starting: null, problem: null };

function runIdOf() {
  const p = hashParts().path;
  return p.startsWith('simulacros/') ? decodeURIComponent(p.slice('simulacros/'.length)) : null;
}

// renderDrills shows the list or a run's board, by the hash.
export function renderDrills() {
  const id = runIdOf();
  if (id) return renderBoard(id);
  board.runId = null;
  return renderList();
}

// ---------------------------------------------------------------- list and form

async function loadList() {
  const seq = nav.seq;
  try {
    const [plans, runs, ladders] = await Promise.all([api('GET', 'drills'), api('GET', 'drill-runs'), api('GET', 'ladders').catch(() => [])]);
    if (seq !== nav.seq) return;
    list.plans = plans;
    list.runs = runs;
    list.ladders = (ladders || []).map((l) => l.ladder || l);
    list.error = null;
  } catch (err) {
    list.error = errorText(err);
  }
  if (!runIdOf() && hashParts().path === 'simulacros') paintList();
}

function renderList() {
  if (!list.form) list.form = newForm();
  paintList();
  focusHeading();
  loadList();
}

function newForm() {
  return {
    name: '', title: '', teams: new Set(), channels: new Set(), ladder: '', window: 30, announced: false,
    repeat: 'none', date: '', weekday: 'MON', monthday: 1, time: '10:00',
    criteria: [{ scope: 'all', percent: 90, within: 15 }], fields: {},
  };
}

function paintList() {
  const f = list.form;
  const plans = list.plans == null
    ? h('p', { class: 'loading' }, t('loading'))
    : list.plans.length === 0
      ? h('p', { class: 'muted', testid: 'drill-plans-empty' }, t('drill.noPlans'))
      : h('ul', { class: 'drill-plans', testid: 'drill-plans' }, list.plans.map((p) => h('li', { class: 'card', testid: 'drill-plan', 'data-id': p.id },
        h('h3', {}, p.name),
        h('p', {}, p.scenario.title),
        h('p', { class: 'muted' }, p.teams.map(teamName).join(', '), ' · ', t('drill.window', { n: Math.round(durMs(p.window) / 60000) }),
          p.schedule ? [' · ', t('drill.next', { when: p.next_run_at ? fmtTime(p.next_run_at) : '—' })] : null,
          ' · ', t(p.announced ? 'drill.announced' : 'drill.unannounced')),
        h('button', { type: 'button', class: 'btn btn-primary', testid: 'drill-start', disabled: list.starting === p.id, onclick: () => start(p) },
          t(list.starting === p.id ? 'drill.starting' : 'drill.start')))));
  const runs = (list.runs || []).slice(0, 20).map((r) => h('li', { testid: 'drill-run', 'data-status': r.status },
    h('a', { href: `#/simulacros/${encodeURIComponent(r.id)}` }, r.plan.name, ' · ', r.folio || r.id),
    ' ', h('span', { class: 'chip' }, t(`drill.status.${r.status}`)), ' ', r.started_at ? fmtTime(r.started_at) : ''));
  const fieldErr = (name) => f.fields[name] ? h('p', { class: 'field-error', id: `drill-err-${slug(name)}`, testid: `drill-error-${name}` }, f.fields[name]) : null;
  const marked = (...names) => (names.some((n) => f.fields[n]) ? 'true' : null);
  const teams = (state.meta?.teams || []).map((tm) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', value: tm.id, checked: f.teams.has(tm.id), testid: `drill-team-${tm.id}`,
      onchange: (e) => { if (e.target.checked) f.teams.add(tm.id); else f.teams.delete(tm.id); } }), ' ', teamName(tm.id)));
  const scopes = ['all', ...[...f.teams].map((x) => `team:${x}`), ...ROLES.map((r) => `role:${r}`)];
  const criteria = f.criteria.map((c, i) => h('div', { class: 'drill-criterion-row', testid: 'drill-criterion-input' },
    h('select', { class: 'input', 'aria-label': t('drill.scope'), 'aria-invalid': marked(`criteria[${i}].scope`), onchange: (e) => { c.scope = e.target.value; } },
      scopes.map((s) => h('option', { value: s, selected: s === c.scope }, scopeName(s)))),
    h('span', { class: 'drill-criterion-nums' },
      h('input', { class: 'input', type: 'number', inputmode: 'numeric', min: 1, max: 100, value: c.percent, 'aria-label': t('drill.percent'), 'aria-invalid': marked(`criteria[${i}].percent`), testid: 'drill-percent', oninput: (e) => { c.percent = Number(e.target.value); } }), ' % ',
      h('span', {}, t('drill.in')), ' ',
      h('input', { class: 'input', type: 'number', inputmode: 'numeric', min: 0, value: c.within, 'aria-label': t('drill.within'), 'aria-invalid': marked(`criteria[${i}].within`), testid: 'drill-within', oninput: (e) => { c.within = Number(e.target.value); } }), ' min'),
    fieldErr(`criteria[${i}].percent`), fieldErr(`criteria[${i}].within`), fieldErr(`criteria[${i}].scope`)));
  const input = (name, props, errName = name) => h('input', {
    class: 'input', ...props, value: f[name], testid: `drill-${name}`, 'aria-invalid': marked(errName),
    oninput: (e) => { f[name] = props.type === 'number' ? Number(e.target.value) : e.target.value; },
  });
  const field = (label, control, ...errs) => h('div', { class: 'field' }, h('label', { class: 'label' }, label, control), ...errs);
  const form = h('form', { class: 'card drill-form stack', testid: 'drill-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } },
    h('h2', {}, t('drill.new')),
    field(t('drill.name'), input('name', { type: 'text', maxlength: 200 }), fieldErr('name')),
    field(t('drill.scenario'), input('title', { type: 'text', maxlength: 200, placeholder: 'Sismo 7.1 en CDMX' }, 'scenario.title'), fieldErr('scenario.title')),
    h('fieldset', { class: 'field', 'aria-invalid': marked('teams') }, h('legend', { class: 'label' }, t('drill.teams')), h('div', { class: 'checks' }, teams), fieldErr('teams')),
    h('fieldset', { class: 'field', 'aria-invalid': marked('channels', 'channels[0]') }, h('legend', { class: 'label' }, t('drill.channelsQ')), h('div', { class: 'checks' }, ['webpush', 'sms', 'voice', 'email'].map((ch) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', checked: f.channels.has(ch), testid: `drill-channel-${ch}`,
        onchange: (e) => { if (e.target.checked) f.channels.add(ch); else f.channels.delete(ch); } }), ' ', t(`drill.channel.${ch}`)))), fieldErr('channels'), fieldErr('channels[0]')),
    field(t('drill.ladder'), h('select', { class: 'input', testid: 'drill-ladder', 'aria-invalid': marked('ladder'), onchange: (e) => { f.ladder = e.target.value; } },
      h('option', { value: '' }, t('drill.ladderAuto')),
      (list.ladders || []).map((l) => h('option', { value: l.id, selected: l.id === f.ladder }, l.name?.[state.lang] || l.name?.es || l.id))), fieldErr('ladder')),
    field(t('drill.windowMin'), input('window', { type: 'number', inputmode: 'numeric', min: 1 }), fieldErr('window')),
    schedulePicker(f, fieldErr('schedule'), marked('schedule')),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: f.announced, testid: 'drill-announced', onchange: (e) => { f.announced = e.target.checked; } }), ' ', t('drill.announcedQ')),
    h('fieldset', { class: 'field' }, h('legend', { class: 'label' }, t('drill.criteria')), criteria,
      h('button', { type: 'button', class: 'btn', testid: 'drill-add-criterion', onclick: () => { f.criteria.push({ scope: 'all', percent: 100, within: 15 }); paintList(); } }, `+ ${t('drill.addCriterion')}`)),
    list.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'drill-form-error' }, list.problem) : null,
    h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'drill-save' }, t('drill.save')));
  show(
    h('section', { class: 'drills', testid: 'drills' },
      h('h1', { testid: 'drills-heading' }, t('drill.title')),
      h('p', { class: 'lead' }, t('drill.lead')),
      list.error ? h('p', { class: 'alert alert-error', role: 'alert' }, list.error) : null,
      plans,
      h('h2', {}, t('drill.runs')),
      runs.length ? h('ul', { class: 'drill-runs' }, runs) : h('p', { class: 'muted' }, t('drill.noRuns')),
      form));
}

function scopeName(s) {
  if (s === 'all') return t('drill.scope.all');
  if (s.startsWith('team:')) return teamName(s.slice(5));
  return t(`drill.role.${s.slice(5)}`);
}

async function save() {
  const f = list.form;
  if (cronOf(f) === 'once-without-date') {
    f.fields = { schedule: t('drill.needDate') };
    list.problem = t('v.fix');
    paintList();
    return;
  }
  const body = {
    name: f.name, scenario: { title: f.title }, teams: [...f.teams], channels: [...f.channels], ladder: f.ladder,
    window: `${f.window}m`, schedule: cronOf(f),
    announced: f.announced, criteria: f.criteria.map((c) => ({ scope: c.scope, percent: c.percent, within: `${c.within}m` })),
  };
  try {
    await api('POST', 'drills', { body });
    list.form = newForm();
    list.problem = null;
  } catch (err) {
    list.problem = errorText(err);
    f.fields = {};
    if (err instanceof ProblemError) for (const e of err.problem?.errors || []) f.fields[e.field] = e.message;
    // The form has no id field: the id is made from the name, so a bad id is the name's.
    if (f.fields.id) {
      if (!f.fields.name) f.fields.name = t('drill.idFromName');
      delete f.fields.id;
    }
  }
  paintList();
  loadList();
}

async function start(p) {
  list.starting = p.id;
  list.problem = null;
  paintList();
  try {
    const run = await api('POST', `drills/${encodeURIComponent(p.id)}/runs`, { body: {} });
    list.starting = null;
    location.hash = `#/simulacros/${encodeURIComponent(run.id)}`;
  } catch (err) {
    list.starting = null;
    list.error = errorText(err);
    paintList();
  }
}

function durMs(d) {
  // Go durations as JSON: "1h30m0s", "30m0s", "45s".
  let ms = 0;
  for (const [, n, u] of String(d).matchAll(/([\d.]+)(h|m|s|ms)/g)) ms += Number(n) * { h: 3600000, m: 60000, s: 1000, ms: 1 }[u];
  return ms;
}

// ---------------------------------------------------------------- the live board

function renderBoard(id) {
  if (board.runId !== id) {
    board.runId = id;
    board.data = null;
    board.error = null;
  }
  paintBoard();
  focusHeading();
  refresh();
}

async function refresh() {
  const id = board.runId;
  if (!id || board.loading) return;
  board.loading = true;
  board.last = Date.now();
  try {
    const data = await api('GET', `drill-runs/${encodeURIComponent(id)}`);
    if (board.runId === id) { board.data = data; board.error = null; }
  } catch (err) {
    if (board.runId === id) board.error = errorText(err);
  } finally {
    board.loading = false;
  }
  if (board.runId === id && runIdOf() === id) paintBoard();
}

// drillFrame is called with every stream frame: the open board re-reads itself when one
// concerns its run, at most once a second.
export function drillFrame(ev) {
  if (!board.runId || runIdOf() !== board.runId) return;
  const inc = board.data?.run?.incident_id;
  const about = ev.incident?.id || ev.data?.incident_id;
  if (!(ev.type?.startsWith('drill.') || (inc && about === inc))) return;
  if (board.timer) return;
  const wait = Math.max(0, REFRESH_MS - (Date.now() - board.last));
  board.timer = setTimeout(() => { board.timer = 0; refresh(); }, wait);
}

async function cancel() {
  if (!board.data || !confirm(t('drill.cancelQ'))) return;
  board.cancelling = true;
  paintBoard();
  try {
    await api('POST', `drill-runs/${encodeURIComponent(board.runId)}/cancel`, { body: {} });
  } catch (err) {
    board.error = errorText(err);
  }
  board.cancelling = false;
  refresh();
}

const pct = (x) => `${Math.round(x * 1000) / 10} %`;
const secs = (v) => (v == null ? '—' : v < 60 ? `${Math.round(v)} s` : `${Math.round(v / 6) / 10} min`);

function paintBoard() {
  const d = board.data;
  if (!d) {
    show(h('section', { class: 'drill-board', testid: 'drill-board', 'data-state': board.error ? 'error' : 'loading' },
      h('h1', {}, t('drill.board')), board.error ? h('p', { class: 'alert alert-error', role: 'alert' }, board.error) : h('p', { class: 'loading' }, t('loading'))));
    return;
  }
  const r = d.run;
  const hd = d.header;
  const base = `api/v1/drill-runs/${encodeURIComponent(r.id)}/report`;
  const criteria = d.criteria.map((v) => h('li', { class: `drill-verdict verdict-${v.result}`, testid: 'drill-criterion', 'data-result': v.result },
    h('b', {}, t(`drill.result.${v.result}`)), ' · ',
    t('drill.criterionText', { pct: v.criterion.percent, scope: scopeName(v.criterion.scope), min: Math.round(durMs(v.criterion.within) / 60000) }),
    ' — ', t('drill.inTime', { n: v.in_time, of: v.targeted, need: v.needed })));
  const fig = (g, label) => h('tr', { testid: 'drill-figure', 'data-key': g.key },
    h('th', { scope: 'row' }, label), h('td', {}, `${g.reached} / ${g.targeted}`), h('td', {}, pct(g.reach_rate)),
    h('td', {}, `${g.acknowledged} / ${g.targeted}`), h('td', {}, pct(g.confirmation_rate)),
    h('td', {}, secs(g.ack_median_seconds)), h('td', {}, secs(g.ack_p90_seconds)), h('td', {}, secs(g.ack_max_seconds)));
  const figures = h('table', { class: 'drill-figures', testid: 'drill-figures' },
    h('thead', {}, h('tr', {}, ['', 'drill.reached', 'drill.reachRate', 'drill.acked', 'drill.ackRate', 'drill.median', 'drill.p90', 'drill.max'].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))),
    h('tbody', {}, fig(d.overall, t('drill.overall')), d.teams.map((g) => fig(g, teamName(g.key))),
      d.roles.map((g) => fig(g, t(`drill.role.${g.key}`))), d.channels.map((g) => fig(g, t(`drill.channel.${g.key}`)))));
  const people = h('table', { class: 'drill-people', testid: 'drill-people' },
    h('thead', {}, h('tr', {}, ['drill.person', 'drill.channels', 'drill.state'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, d.people.map((p) => h('tr', { testid: 'drill-person', 'data-person-id': p.person_id, 'data-state': p.state },
      h('td', {}, p.name),
      h('td', {}, p.channels.length ? p.channels.map((c) => h('span', { class: `chip chip-${c.status}`, title: c.error || '' }, `${t(`drill.channel.${c.channel}`)}: ${t(`drill.dstatus.${c.status}`)}`)) : '—'),
      h('td', { testid: 'drill-person-state' }, t(`drill.pstate.${p.state}`), p.acknowledged_at ? ` · ${fmtTime(p.acknowledged_at)}` : '')))));
  const counts = { acknowledged: 0, reached: 0, pending: 0, unreached: 0 };
  for (const p of d.people) counts[p.state] = (counts[p.state] || 0) + 1;
  show(h('section', { class: 'drill-board', testid: 'drill-board', 'data-state': 'ready', 'data-status': r.status, 'data-run-id': r.id },
    h('p', { class: 'drill-tag' }, t('drill.tag')),
    h('h1', { testid: 'drill-title' }, hd.scenario || hd.plan),
    h('p', { class: 'muted' }, hd.plan, ' · ', h('a', { href: `#/incidente/${encodeURIComponent(hd.folio)}` }, hd.folio), ' · ',
      h('span', { testid: 'drill-status' }, t(`drill.status.${r.status}`)), ' · ', t(hd.announced ? 'drill.announced' : 'drill.unannounced'),
      hd.ends_at ? [' · ', t('drill.endsAt', { when: fmtTime(hd.ends_at) })] : null),
    board.error ? h('p', { class: 'alert alert-error', role: 'alert' }, board.error) : null,
    h('p', { class: 'drill-counts', testid: 'drill-counts' }, t('drill.counts', counts)),
    h('h2', {}, t('drill.criteria')), h('ul', { class: 'drill-verdicts' }, criteria),
    h('h2', {}, t('drill.figures')), h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': t('drill.figures') }, figures),
    h('h2', {}, t('drill.people')), h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': t('drill.people') }, people),
    d.team_chats?.length ? [h('h2', {}, t('chat.teamPosts')), h('p', { class: 'hint' }, t('chat.drillLead')),
      teamChatsList(d.team_chats.map((g) => ({ team: g.team, channels: g.channels.map((c) => ({ ...c,
        posts: [{ title: c.title, status: c.status, at: c.sent_at || c.queued_at, answer: c.answer, error: c.error }] })) })), 'drill-team-chats')] : null,
    d.hygiene?.length ? [h('h2', {}, t('drill.hygiene')), h('ul', { class: 'drill-hygiene', testid: 'drill-hygiene' },
      d.hygiene.map((a) => h('li', { 'data-action': a.action }, a.name, ': ', t(`drill.action.${a.action}`), a.detail ? ` (${a.detail})` : '')))] : null,
    d.trend?.length > 1 ? [h('h2', {}, t('drill.trend')), h('ul', { class: 'drill-trend', testid: 'drill-trend' },
      d.trend.map((p) => h('li', {}, p.started_at ? fmtTime(p.started_at) : '—', ' · ', t(`drill.status.${p.status}`), ' · ',
        t('drill.trendLine', { reach: pct(p.reach_rate), ack: pct(p.confirmation_rate), met: p.criteria_met, of: p.criteria }))))] : null,
    h('p', { class: 'drill-actions' },
      h('a', { class: 'btn', href: `${base}.csv`, download: true, testid: 'drill-csv' }, t('drill.csv')), ' ',
      h('a', { class: 'btn', href: base, target: '_blank', rel: 'noopener' }, 'JSON'), ' ',
      r.status === 'running' ? h('button', { type: 'button', class: 'btn btn-danger', testid: 'drill-cancel', disabled: board.cancelling, onclick: cancel }, t('drill.cancel')) : null)));
}

// forgetDrills drops what was loaded, at sign-out.
export function forgetDrills() {
  list = { plans: null, runs: null, error: null, form: null, starting: null, problem: null };
  board.runId = null;
  board.data = null;
}

// ---------------------------------------------------------------- schedule picker

const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

function slug(s) { return String(s).replace(/[^a-z0-9]+/gi, '-'); }

// cronOf writes the plan's cron spec (with seconds, as the server reads it) from the
// picker: never, once (a date and time), every week (a weekday and time) or every month
// (a day of the month and time). "Once" repeats on that date a year later, which the
// hint says; the plan can be deleted after it ran.
export function cronOf(f) {
  const [hh, mm] = String(f.time || '').split(':').map((x) => parseInt(x, 10));
  if (f.repeat === 'none') return '';
  const h24 = Number.isFinite(hh) ? hh : 10;
  const min = Number.isFinite(mm) ? mm : 0;
  if (f.repeat === 'weekly') return `0 ${min} ${h24} * * ${f.weekday || 'MON'}`;
  if (f.repeat === 'monthly') return `0 ${min} ${h24} ${Math.min(28, Math.max(1, Number(f.monthday) || 1))} * *`;
  if (f.repeat === 'once') {
    const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(f.date || '');
    if (!d) return 'once-without-date';
    return `0 ${min} ${h24} ${Number(d[3])} ${Number(d[2])} *`;
  }
  return '';
}

// schedulePicker asks when the drill runs by itself, in words, and shows the spec it writes.
function schedulePicker(f, err, invalid) {
  const redraw = () => paintList();
  const kinds = ['none', 'once', 'weekly', 'monthly'];
  const spec = cronOf(f);
  return h('fieldset', { class: 'field schedule', testid: 'drill-schedule', 'aria-invalid': invalid },
    h('legend', { class: 'label' }, t('drill.when')),
    h('div', { class: 'seg' }, kinds.map((k) => h('label', { class: `seg-opt${f.repeat === k ? ' seg-on' : ''}`, testid: `drill-repeat-${k}` },
      h('input', { type: 'radio', name: 'drill-repeat', value: k, checked: f.repeat === k, onchange: () => { f.repeat = k; redraw(); } }),
      h('span', {}, t(`drill.repeat.${k}`))))),
    f.repeat === 'none' ? h('p', { class: 'hint' }, t('drill.repeat.noneHint')) : h('div', { class: 'schedule-row' },
      f.repeat === 'once' ? h('label', { class: 'label' }, t('drill.date'),
        h('input', { class: 'input', type: 'date', value: f.date, testid: 'drill-date', onchange: (e) => { f.date = e.target.value; redraw(); } })) : null,
      f.repeat === 'weekly' ? h('label', { class: 'label' }, t('drill.weekday'),
        h('select', { class: 'input', testid: 'drill-weekday', onchange: (e) => { f.weekday = e.target.value; redraw(); } },
          WEEKDAYS.map((d) => h('option', { value: d, selected: f.weekday === d }, t(`drill.day.${d}`))))) : null,
      f.repeat === 'monthly' ? h('label', { class: 'label' }, t('drill.monthday'),
        h('input', { class: 'input', type: 'number', inputmode: 'numeric', min: 1, max: 28, value: f.monthday, testid: 'drill-monthday', onchange: (e) => { f.monthday = Number(e.target.value); redraw(); } })) : null,
      h('label', { class: 'label' }, t('drill.time'),
        h('input', { class: 'input', type: 'time', value: f.time, testid: 'drill-time', onchange: (e) => { f.time = e.target.value; redraw(); } }))),
    spec && spec !== 'once-without-date' ? h('p', { class: 'hint', testid: 'drill-cron' }, t('drill.cronIs', { spec }), f.repeat === 'once' ? ` ${t('drill.onceHint')}` : '') : null,
    err);
}
