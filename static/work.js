// OPTIMUM BCP web app: the incident worked after its declaration, on the incident page
// and the board — the lifecycle buttons, owner and reclassification, stakeholder updates
// (and when the next one is due or late), the conversation with the requester, similar
// past incidents with their solutions, the report — and, on the declare form, the
// scenario templates and the similar incidents found while typing.
//
// Its strings live in work-i18n.js, which i18n.js merges into I18N.

import { state, t, h, api, errorText, can, fmtTime, fmtDuration, fmtCountdown, ProblemError } from './core.js';

// MOVES is the server's state machine (incident/lifecycle.go), to offer only legal moves.
const MOVES = {
  declared: ['acknowledged', 'investigating', 'cancelled'],
  acknowledged: ['investigating', 'resolved', 'cancelled'],
  investigating: ['resolved', 'cancelled'],
  resolved: ['verified', 'reopened'],
  verified: ['closed', 'reopened'],
  reopened: ['investigating', 'resolved', 'cancelled'],
  closed: [],
  cancelled: [],
};
const NOTE_REQUIRED = new Set(['resolved', 'reopened', 'cancelled', 'closed']);
const LEVELS = ['critical', 'high', 'medium', 'low'];
const FINAL = new Set(['closed', 'cancelled']);

// side is what the panels fetch besides the incident: the requester's messages, the
// similar incidents, the people to assign. It is refetched when the incident changes.
const side = { id: null, stamp: null, messages: null, similar: null, people: null, busy: '', error: '', errorFor: '', drafts: {}, fields: {}, open: {} };

// workData loads what the panels show for the incident, then calls redraw.
export function workData(inc, redraw) {
  if (!inc) return;
  const stamp = `${inc.id}|${inc.updated_at}`;
  if (side.stamp === stamp) return;
  const fresh = side.id !== inc.id;
  side.stamp = stamp;
  if (fresh) Object.assign(side, { id: inc.id, messages: null, similar: null, busy: '', error: '', errorFor: '', drafts: {}, fields: {}, open: {} });
  const id = encodeURIComponent(inc.id);
  api('GET', `incidents/${id}/messages`).then((ms) => {
    if (side.id === inc.id) { side.messages = ms || []; redraw(); }
  }).catch(() => {});
  if (can('responder')) {
    if (fresh || !side.similar) {
      api('GET', `incidents/${id}/similar?limit=5`).then((ms) => {
        if (side.id === inc.id) { side.similar = ms || []; redraw(); }
      }).catch(() => {});
    }
    if (!side.people) {
      api('GET', 'people?limit=200').then((ps) => { side.people = Array.isArray(ps) ? ps : []; redraw(); }).catch(() => { side.people = []; });
    }
  }
}

// workSignature changes whenever the work panel must be redrawn.
export function workSignature(inc) {
  return [inc?.status, inc?.owner, inc?.impact, inc?.urgency, inc?.next_update_at, inc?.last_update_at, inc?.conformity,
    inc?.resolution, inc?.known_error, side.messages, side.people?.length, side.busy, side.error, state.me?.role, state.lang];
}

export function similarSignature() { return [side.similar, state.lang]; }

async function act(inc, what, method, path, body, redraw, after) {
  if (side.busy) return;
  side.busy = what;
  side.error = '';
  side.errorFor = '';
  side.fields = {};
  redraw();
  try {
    const got = await api(method, `incidents/${encodeURIComponent(inc.id)}/${path}`, { body });
    side.busy = '';
    side.stamp = null; // fetch the messages again
    forgetDrafts(what);
    if (after) after(got);
  } catch (err) {
    side.busy = '';
    side.error = errorText(err);
    side.errorFor = what;
    // The refused fields are marked; what was typed and chosen stays (keep).
    if (err instanceof ProblemError) for (const e of err.problem?.errors || []) side.fields[`${what}.${e.field}`] = e.message;
  }
  redraw();
}

// keep makes a panel's input survive a redraw: what the person typed or chose is kept
// under key ("reclass.note") until the action it belongs to succeeds; a field the
// server refused is marked, with its message.
function keep(el, key) {
  if (key in side.drafts) {
    if (el.type === 'checkbox') el.checked = side.drafts[key];
    else el.value = side.drafts[key];
  }
  const save = () => { side.drafts[key] = el.type === 'checkbox' ? el.checked : el.value; };
  el.addEventListener('input', save);
  el.addEventListener('change', save);
  if (side.fields[key]) {
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', `werr-${key.replace(/\W/g, '-')}`);
  }
  return el;
}

// fieldMessage is the server's message for a kept field, next to it.
function fieldMessage(key) {
  return side.fields[key] ? h('p', { class: 'field-error', id: `werr-${key.replace(/\W/g, '-')}`, testid: `work-field-error-${key}` }, side.fields[key]) : null;
}

// keepOpen keeps a folded block open across redraws once the person opened it.
function keepOpen(details, key, dflt = false) {
  details.open = key in side.open ? side.open[key] : dflt;
  details.addEventListener('toggle', () => { side.open[key] = details.open; });
  return details;
}

function forgetDrafts(what) {
  for (const k of Object.keys(side.drafts)) if (k.startsWith(`${what}.`)) delete side.drafts[k];
}

function errorFor(what) {
  return side.error && side.errorFor === what
    ? h('p', { class: 'field-error', role: 'alert', testid: `work-error-${what}` }, side.error) : null;
}

function field(label, input, key) {
  return h('div', { class: 'field' }, h('label', {}, h('span', { class: 'label' }, label), input), key ? fieldMessage(key) : null);
}

// workPanel is the incident page's card of actions, for the incident as it is now.
export function workPanel(inc, { redraw, reload }) {
  const done = (got) => reload(got);
  const parts = [h('h2', { id: 'inc-work-title' }, t('work.title'))];
  parts.push(nextUpdateLine(inc, 'incident-next-update'));
  if (inc.conformity) {
    parts.push(h('p', { class: 'muted', testid: 'incident-conformity', 'data-state': inc.conformity },
      t('work.conformityState', { state: t(`conf.${inc.conformity}`) })));
  }
  if (inc.resolution) parts.push(h('p', { testid: 'incident-resolution' }, h('strong', {}, `${t('work.resolution')}: `), inc.resolution));
  if (inc.known_error) parts.push(h('p', { class: 'known-error', testid: 'incident-known-error' }, t('work.knownErrorShown', { text: inc.known_error.workaround })));

  if (can('responder')) {
    const moves = (MOVES[inc.status] || []).filter((m) => m !== 'closed' || can('manager'));
    const note = keep(h('textarea', { class: 'input', rows: '2', maxlength: '2000', testid: 'move-note' }), 'move.note');
    parts.push(h('section', { class: 'work-block', testid: 'work-moves' },
      h('h3', {}, t('work.moves')),
      moves.length ? [field(t('work.note'), note, 'move.note'),
        h('div', { class: 'work-buttons' }, moves.map((to) => h('button', {
          type: 'button', class: `btn ${to === 'cancelled' || to === 'reopened' ? '' : 'btn-primary'}`, testid: `move-${to}`,
          disabled: !!side.busy, 'data-note-required': NOTE_REQUIRED.has(to) ? 'true' : 'false',
          onclick: () => {
            if (NOTE_REQUIRED.has(to) && !note.value.trim()) {
              side.error = t('work.noteRequired');
              side.errorFor = 'move';
              side.fields = { 'move.note': t('work.noteRequired') };
              redraw();
              return;
            }
            act(inc, 'move', 'POST', 'transitions', { to, note: note.value }, redraw, done);
          },
        }, t(`move.${to}`))))]
        : h('p', { class: 'muted' }, t('work.final')),
      errorFor('move')));
  }
  if (can('responder') && !FINAL.has(inc.status)) {
    parts.push(ownerBlock(inc, redraw, done));
    parts.push(reclassifyBlock(inc, redraw, done));
    parts.push(updateBlock(inc, redraw, done));
  }
  parts.push(requesterBlock(inc, redraw, done));
  if (can('responder') && (inc.resolved_at || inc.status === 'closed') && !inc.known_error) {
    const wa = keep(h('textarea', { class: 'input', rows: '2', maxlength: '2000', testid: 'known-error-text' }), 'known.workaround');
    parts.push(h('details', { class: 'work-block', testid: 'work-known-error' }, h('summary', {}, h('h3', {}, t('work.knownError'))), field(t('work.workaround'), wa, 'known.workaround'),
      h('button', { type: 'button', class: 'btn', testid: 'known-error-save', disabled: !!side.busy,
        onclick: () => act(inc, 'known', 'POST', 'known-error', { workaround: wa.value }, redraw, done) }, t('work.knownError')),
      errorFor('known')));
  }
  if (can('responder')) {
    const base = `api/v1/incidents/${encodeURIComponent(inc.id)}`;
    parts.push(h('section', { class: 'work-block', testid: 'work-report' }, h('h3', {}, t('work.report')),
      h('p', { class: 'work-buttons' },
        h('a', { class: 'btn', href: `${base}/report.html`, target: '_blank', rel: 'noopener', testid: 'report-print' }, t('work.reportPrint')),
        h('a', { class: 'btn', href: `${base}/report.md`, testid: 'report-md' }, t('work.reportMd')))));
  }
  return h('section', { class: 'card inc-work-card', 'aria-labelledby': 'inc-work-title', 'aria-busy': side.busy ? 'true' : 'false' }, parts);
}

function ownerBlock(inc, redraw, done) {
  const people = side.people || [];
  const select = keep(h('select', { class: 'input', testid: 'owner-select' },
    h('option', { value: '' }, t('work.nobody')),
    people.map((p) => h('option', { value: p.id, selected: inc.owner?.id === p.id }, p.name))), 'owner.owner');
  const note = keep(h('input', { class: 'input', type: 'text', maxlength: '2000', testid: 'owner-note' }), 'owner.note');
  return keepOpen(h('details', { class: 'work-block', testid: 'work-owner' },
    h('summary', {}, h('h3', {}, t('work.owner'), ': ', h('span', { testid: 'incident-owner' }, inc.owner?.name || t('work.nobody')))),
    field(t('work.owner'), select, 'owner.owner'), field(t('work.note'), note, 'owner.note'),
    h('button', { type: 'button', class: 'btn', testid: 'owner-save', disabled: !!side.busy || !people.length,
      onclick: () => select.value && act(inc, 'owner', 'POST', 'assignment', { owner: select.value, note: note.value }, redraw, done) }, t('work.assign')),
    errorFor('owner')), 'owner');
}

function levelSelect(name, value) {
  return h('select', { class: 'input', testid: `reclass-${name}` },
    LEVELS.map((l) => h('option', { value: l, selected: l === value }, t(`level.${l}`))));
}

function reclassifyBlock(inc, redraw, done) {
  const impact = keep(levelSelect('impact', inc.impact), 'reclass.impact');
  const urgency = keep(levelSelect('urgency', inc.urgency), 'reclass.urgency');
  const note = keep(h('input', { class: 'input', type: 'text', maxlength: '2000', testid: 'reclass-note' }), 'reclass.note');
  return keepOpen(h('details', { class: 'work-block', testid: 'work-reclassify' },
    h('summary', {}, h('h3', {}, t('work.reclassify'), ': ', `${inc.priority || ''}`)),
    h('div', { class: 'work-row' }, field(t('work.impact'), impact, 'reclass.impact'), field(t('work.urgency'), urgency, 'reclass.urgency')),
    field(t('work.note'), note, 'reclass.note'),
    h('button', { type: 'button', class: 'btn', testid: 'reclass-save', disabled: !!side.busy,
      onclick: () => act(inc, 'reclass', 'POST', 'classification', { impact: impact.value, urgency: urgency.value, note: note.value }, redraw, done) }, t('work.reclassify')),
    errorFor('reclass')), 'reclass');
}

function updateBlock(inc, redraw, done) {
  const known = keep(h('textarea', { class: 'input', rows: '2', maxlength: '2000', testid: 'update-known' }), 'update.known');
  const doing = keep(h('textarea', { class: 'input', rows: '2', maxlength: '2000', testid: 'update-doing' }), 'update.doing');
  const next = keep(h('select', { class: 'input', testid: 'update-next' },
    [15, 30, 60, 120, 240].map((n) => h('option', { value: String(n), selected: n === 30 }, t('work.minutes', { n })))), 'update.next');
  const sms = keep(h('input', { type: 'checkbox', testid: 'update-sms' }), 'update.sms');
  return keepOpen(h('details', { class: 'work-block', testid: 'work-update' },
    h('summary', {}, h('h3', {}, t('work.update'))),
    inc.last_update_at ? h('p', { class: 'muted' }, t('work.lastUpdate', { time: fmtTime(inc.last_update_at) })) : null,
    field(t('work.known'), known, 'update.known'), field(t('work.doing'), doing, 'update.doing'), field(t('work.next'), next, 'update.next_update_at'),
    h('label', { class: 'check' }, sms, h('span', {}, t('work.sms'))),
    h('button', { type: 'button', class: 'btn btn-primary', testid: 'update-post', disabled: !!side.busy,
      onclick: () => act(inc, 'update', 'POST', 'updates', {
        known: known.value, doing: doing.value, sms: sms.checked,
        next_update_at: new Date(Date.now() + Number(next.value) * 60000).toISOString(),
      }, redraw, done) }, t('work.post')),
    errorFor('update')), 'update', true);
}

function requesterBlock(inc, redraw, done) {
  const ms = side.messages || [];
  const mineToAnswer = state.me && inc.reporter?.id === state.me.id;
  const parts = [h('h3', {}, t('work.requester')),
    ms.length ? h('ol', { class: 'messages', testid: 'requester-messages' }, ms.map((m) => h('li', {
      class: `message message-${m.kind}`, testid: 'requester-message', 'data-kind': m.kind,
    },
    h('time', { class: 'tl-time', datetime: m.at }, fmtTime(m.at)), ' ',
    h('span', {}, m.text),
    // No link is ever stored or shown: the requester asks for one of their own and goes to it.
    m.answerable ? h('button', { type: 'button', class: 'btn btn-primary', testid: 'conformity-link', disabled: !!side.busy,
      onclick: () => act(inc, 'conformity', 'POST', 'conformity-link', {}, redraw, (got) => { window.location.assign(got.url); }) },
    t('work.conformity')) : null)))
      : h('p', { class: 'muted' }, t('work.noMessages'))];
  if (ms.some((m) => m.answerable)) parts.push(errorFor('conformity'));
  if (can('responder') && !FINAL.has(inc.status) && inc.reporter?.id) {
    const q = keep(h('textarea', { class: 'input', rows: '2', maxlength: '2000', testid: 'ask-text' }), 'ask.question');
    parts.push(field(t('work.question'), q, 'ask.question'), h('button', { type: 'button', class: 'btn', testid: 'ask-send', disabled: !!side.busy,
      onclick: () => act(inc, 'ask', 'POST', 'questions', { question: q.value }, redraw, () => redraw()) }, t('work.ask')), errorFor('ask'));
  }
  if ((mineToAnswer || can('responder')) && !FINAL.has(inc.status) && ms.some((m) => m.kind === 'question')) {
    const a = keep(h('textarea', { class: 'input', rows: '2', maxlength: '2000', testid: 'answer-text' }), 'answer.answer');
    parts.push(field(t('work.answer'), a, 'answer.answer'), h('button', { type: 'button', class: 'btn btn-primary', testid: 'answer-send', disabled: !!side.busy,
      onclick: () => act(inc, 'answer', 'POST', 'answers', { answer: a.value }, redraw, done) }, t('work.answerSend')), errorFor('answer'));
  }
  return h('section', { class: 'work-block', testid: 'work-requester' }, parts);
}

// nextUpdateLine shows when the next stakeholder update is due, ticking (tickWork).
export function nextUpdateLine(inc, testid) {
  if (!inc?.next_update_at || FINAL.has(inc.status)) return null;
  return h('p', { class: 'next-update', testid, 'data-next-update': inc.next_update_at });
}

// similarPanel lists the past incidents most like this one, with their solutions.
export function similarPanel() {
  if (!can('responder') || side.similar == null) return null;
  return h('section', { class: 'card inc-similar-card', 'aria-labelledby': 'inc-sim-title' },
    h('h2', { id: 'inc-sim-title' }, t('sim.title')), similarList(side.similar, 'similar'));
}

function similarList(list, testid) {
  if (!list.length) return h('p', { class: 'muted', testid: `${testid}-empty` }, t('sim.none'));
  return h('ol', { class: 'similar', testid }, list.map((m) => h('li', { class: 'similar-item', testid: `${testid}-item`, 'data-folio': m.folio },
    h('a', { href: `#/incidente/${encodeURIComponent(m.folio)}` }, h('strong', {}, m.folio), ' ', m.title),
    h('span', { class: `status status-${m.status}` }, ` ${t(`status.${m.status}`)}`),
    h('p', { class: 'small' }, m.known_error ? t('work.knownErrorShown', { text: m.known_error.workaround })
      : m.resolution ? t('sim.solution', { text: m.resolution }) : t('sim.noSolution')))));
}

// tickWork refreshes the "next update" lines under root each second: due, or late.
export function tickWork(root, board = false) {
  if (!root) return;
  const now = Date.now();
  for (const el of root.querySelectorAll('[data-next-update]')) {
    const due = Date.parse(el.dataset.nextUpdate);
    if (!Number.isFinite(due)) continue;
    const late = due <= now;
    el.classList.toggle('sla-late', late);
    el.dataset.late = late ? 'true' : 'false';
    const time = fmtTime(el.dataset.nextUpdate);
    el.textContent = board
      ? (late ? t('board.nextLate', { late: fmtDuration(now - due) }) : t('board.nextDue', { time }))
      : (late ? t('work.nextLate', { time, late: fmtDuration(now - due) }) : t('work.nextDue', { time, left: fmtCountdown(due - now) }));
  }
}

// workEventText is the timeline's text of the events of this module, or null.
export function workEventText(ev) {
  const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
  const actor = ev.actor?.name || ev.actor?.id || '—';
  const st = (s) => (s ? t(`status.${s}`) : '—');
  switch (ev.type) {
    case 'incident.transitioned':
      return t(d.note ? 'tl.transitionedNote' : 'tl.transitioned', { actor, from: st(d.from), to: st(d.to), note: d.note || '' });
    case 'incident.assigned':
      return t('tl.assigned', { actor, owner: d.owner?.name || t('work.nobody') });
    case 'incident.reclassified':
      return t('tl.reclassified', { actor, priority: d.priority || '', note: d.note || '' });
    case 'incident.update_posted':
      return t('tl.update', { actor, known: d.known || '' });
    case 'incident.message_sent':
      return t('tl.message', { text: d.text || '' });
    case 'incident.info_requested':
      return t('tl.infoRequested', { actor, question: d.question || '' });
    case 'incident.info_provided':
      return t('tl.infoProvided', { actor, answer: d.answer || '' });
    case 'incident.conformity':
      return t('tl.conformity', { actor, answer: t(`conf.${d.answer}`) });
    case 'incident.known_error':
      return t('tl.knownError', { actor });
    default:
      return null;
  }
}

// ---------------------------------------------------------------- the declare form

const declareSide = { templates: null, timer: 0, seq: 0, similar: [], applied: '' };

// SCENARIO_ICONS mark the built-in scenarios' tiles (decoration only: the name is the label).
// Plain symbols that every system font has (no colour emoji: a phone without them shows
// empty boxes).
const SCENARIO_ICONS = {
  earthquake: '≋', fire: '♨', flood: '≈', 'power-loss': '⚡', cyberattack: '⚠', 'datacenter-down': '▦', pandemic: '✚',
};
// SCENARIO_ORDER puts the scenarios a person declares in a hurry first.
const SCENARIO_ORDER = ['earthquake', 'fire', 'flood', 'power-loss', 'cyberattack', 'datacenter-down', 'pandemic'];

// applyTemplate fills the draft from a scenario template: its title (completed with the
// place as the person types it), impact and urgency, services, causes, the message for
// the audience in both languages and its safety poll.
export function applyTemplate(d, tpl) {
  const draft = d.draft;
  const lang = state.lang === 'en' ? 'en' : 'es';
  const tx = tpl.texts?.[lang] || tpl.texts?.es || {};
  d.template = { id: tpl.id, name: tx.name || tpl.id, prefix: tx.title || '' };
  d.titleAuto = true;
  draft.title = scenarioTitle(d);
  draft.description = tx.description || '';
  draft.services = (tpl.services || []).join(', ');
  draft.causes = (tpl.causes || []).join(', ');
  if (tpl.impact) draft.impact = tpl.impact;
  if (tpl.urgency) draft.urgency = tpl.urgency;
  if (Array.isArray(tpl.teams) && tpl.teams.length) {
    const known = new Set((state.meta?.teams || []).map((x) => x.id));
    const teams = tpl.teams.filter((x) => known.has(x));
    if (teams.length) draft.teams = new Set(teams);
  }
  draft.message_es = tpl.texts?.es?.message || '';
  draft.message_en = tpl.texts?.en?.message || '';
  draft.safety_poll = !!tpl.safety_poll;
  declareSide.applied = d.template.name;
}

// scenarioTitle is a scenario's title for the place typed so far: "Incendio en Torre
// Norte", or the scenario's name while no place is given.
export function scenarioTitle(d) {
  if (!d.template) return d.draft.title;
  const place = d.draft.location.trim();
  return place && d.template.prefix ? `${d.template.prefix}${place}` : d.template.name;
}

// scenarioTiles offers the scenario templates as big buttons at the top of the declare
// form; a tap fills the whole form and calls redraw. "Otra crisis" clears the choice.
export function scenarioTiles(d, redraw, reset) {
  if (declareSide.templates == null) {
    declareSide.templates = [];
    api('GET', 'templates').then((ts) => { declareSide.templates = ts || []; redraw(); }).catch(() => {});
  }
  const ts = [...declareSide.templates].sort((a, b) => rankOf(a.id) - rankOf(b.id));
  if (!ts.length) return null;
  const lang = state.lang === 'en' ? 'en' : 'es';
  const chosen = d.template ? d.template.id : d.other ? '' : null;
  const tile = (id, name, onclick, icon) => h('button', {
    type: 'button', class: `tile${chosen === id ? ' tile-on' : ''}`, testid: `tile-${id || 'other'}`,
    'aria-pressed': String(chosen === id), onclick,
  }, h('span', { class: 'tile-icon', 'aria-hidden': 'true' }, icon || '…'), h('span', { class: 'tile-name' }, name));
  return h('fieldset', { class: 'field tiles-field', testid: 'scenario-tiles' },
    h('legend', { class: 'question' }, t('tpl.label')),
    h('div', { class: 'tiles' },
      ts.map((x) => tile(x.id, x.texts?.[lang]?.name || x.texts?.es?.name || x.id, () => { applyTemplate(d, x); redraw(); }, SCENARIO_ICONS[x.id] || '!')),
      tile('', t('tpl.other'), () => { reset(); redraw(); }, '✎')),
    declareSide.applied ? h('p', { class: 'hint', role: 'status', testid: 'template-applied' }, t('tpl.applied', { name: declareSide.applied })) : null);
}

function rankOf(id) {
  const i = SCENARIO_ORDER.indexOf(id);
  return i < 0 ? SCENARIO_ORDER.length : i;
}

// similarWhileTyping is a box under the declare form that lists similar past incidents
// for what has been typed, searched a moment after the typing stops.
export function similarWhileTyping(draft) {
  if (!can('responder')) return { el: null, update: () => {} };
  const box = h('div', { class: 'similar-box', testid: 'declare-similar', 'aria-live': 'polite' });
  const draw = () => {
    box.replaceChildren(...(declareSide.similar.length
      ? [h('p', { class: 'label' }, t('sim.declare')), similarList(declareSide.similar, 'declare-similar')] : []));
  };
  const update = () => {
    clearTimeout(declareSide.timer);
    declareSide.timer = setTimeout(async () => {
      const q = [draft.title, draft.description].join(' ').trim().slice(0, 400);
      const seq = ++declareSide.seq;
      if (q.length < 3) { declareSide.similar = []; draw(); return; }
      const params = new URLSearchParams({ q, limit: '3' });
      try {
        const got = await api('GET', `incidents/similar?${params}`);
        if (seq === declareSide.seq) { declareSide.similar = got || []; draw(); }
      } catch {
        if (seq === declareSide.seq) { declareSide.similar = []; draw(); }
      }
    }, 400);
  };
  draw();
  update();
  return { el: box, update };
}

// forgetDeclareWork resets the declare form's helpers (a new declaration).
export function forgetDeclareWork() { declareSide.applied = ''; declareSide.similar = []; }
