// OPTIMUM BCP web app: the escalation of an incident, on the incident page — the ladder's
// current step, who was paged when, who is still pending, when the next step is due — and
// the form to escalate by hand (functional: to a team, service or person; hierarchical:
// up the management line), with its required reason.

import { state, t, h, api, ProblemError, errorText, can, fmtTime, fmtCountdown, teamName } from './core.js';


const OPEN = new Set(['declared', 'acknowledged', 'investigating']);
const form = { id: null, el: null, sending: false, problem: null, errors: {}, done: null };

// escalationCard is the incident page's escalation section.
export function escalationCard(inc, refresh) {
  const e = inc.escalation;
  return h('section', { class: 'card inc-esc-card', 'aria-labelledby': 'inc-esc-title', testid: 'escalation' },
    h('h2', { id: 'inc-esc-title' }, t('esc.title')),
    e ? summary(e) : h('p', { class: 'muted', testid: 'escalation-none' }, t('esc.none')),
    can('responder') && OPEN.has(inc.status) ? escalateForm(inc, refresh) : null);
}

function summary(e) {
  const pending = e.pending || [];
  const paged = e.paged || [];
  const name = (state.lang === 'en' ? e.ladder_name?.en : e.ladder_name?.es) || e.ladder || '—';
  return [
    h('dl', { class: 'summary inc-dl' },
      h('dt', {}, t('esc.ladder')), h('dd', { testid: 'escalation-ladder' }, name),
      h('dt', {}, t('esc.col.state')), h('dd', { testid: 'escalation-state', 'data-state': e.state }, t(`esc.state.${e.state}`)),
      e.steps ? [h('dt', {}, t('esc.stepLabel')),
        h('dd', { testid: 'escalation-step', 'data-step': String(e.step) },
          t('esc.step', { step: e.step, steps: e.steps }), e.round ? ` · ${t('esc.round', { n: e.round + 1 })}` : '')] : null,
      h('dt', {}, t('esc.next')),
      h('dd', { testid: 'escalation-next', 'data-next': e.next_step_at || '' }, e.next_step_at ? nextText(e.next_step_at) : t('esc.nextNone')),
      e.sla?.acknowledge === 'breached' ? [h('dt', {}, '⚠'), h('dd', { class: 'sla-late', testid: 'escalation-breach' }, t('esc.sla.breached'))] : null),
    h('h3', {}, t('esc.pending')),
    pending.length
      ? h('ul', { class: 'chips', testid: 'escalation-pending' }, pending.map((n) => h('li', { class: 'chip chip-warn' }, n)))
      : h('p', { class: 'muted', testid: 'escalation-pending-none' }, t('esc.pendingNone')),
    paged.length ? h('details', { class: 'esc-paged', open: paged.length <= 12 ? true : undefined },
      h('summary', {}, `${t('esc.paged')} (${paged.length})`),
      h('ul', { class: 'esc-paged-list', testid: 'escalation-paged' }, paged.map((p) => h('li', { 'data-person': p.person_id, 'data-reason': p.reason },
        h('strong', {}, p.name),
        h('span', { class: 'muted' }, ` · ${p.reason === 'ladder' ? t('esc.why.ladder', { step: p.step }) : t(`esc.why.${p.reason}`)} · `,
          h('time', { datetime: p.paged_at }, fmtTime(p.paged_at)), ' · '),
        pageState(p))))) : null,
  ];
}

function pageState(p) {
  if (p.acknowledged_at) return h('span', { class: 'ok' }, `✓ ${t('esc.acked', { time: fmtTime(p.acknowledged_at) })}`);
  if (p.next_reminder_at) return t('esc.nextReminder', { time: fmtTime(p.next_reminder_at) });
  if (p.stopped_at) return h('span', { class: 'muted' }, t('esc.stopped'));
  return t('esc.waiting');
}

function nextText(iso) {
  return t('esc.nextAt', { time: fmtTime(iso), left: fmtCountdown(Math.max(0, Date.parse(iso) - Date.now())) });
}

// tickEscalation refreshes the countdown to the next step.
export function tickEscalation(root) {
  for (const el of root.querySelectorAll('[data-next]')) {
    if (el.dataset.next) el.textContent = nextText(el.dataset.next);
  }
}

// escalateForm is kept across redraws of the card, so what is typed survives live updates.
function escalateForm(inc, refresh) {
  if (form.id !== inc.id || !form.el || form.el.dataset.lang !== state.lang) {
    Object.assign(form, { id: inc.id, sending: false, problem: null, errors: {}, done: null });
    form.el = buildForm(inc, refresh);
  }
  return form.el;
}

function buildForm(inc, refresh) {
  const err = (name) => h('p', { class: 'field-error', role: 'alert', testid: `escalate-error-${name}`, hidden: true });
  const kind = h('select', { id: 'esc-kind', name: 'kind', class: 'input', testid: 'escalate-kind' },
    ['functional', 'hierarchical'].map((k) => h('option', { value: k }, t(`esc.kind.${k}`))));
  const teams = (state.meta?.teams || []).map((x) => x.id);
  const to = h('input', { id: 'esc-to', name: 'to', class: 'input', list: 'esc-teams', autocomplete: 'off', testid: 'escalate-to' });
  const reason = h('textarea', { id: 'esc-reason', name: 'reason', class: 'input', rows: 2, testid: 'escalate-reason', maxlength: 1000 });
  const status = h('p', { class: 'muted', role: 'status', testid: 'escalate-status' });
  const button = h('button', { type: 'submit', class: 'btn btn-block', testid: 'escalate-submit' }, t('esc.submit'));
  const errs = { kind: err('kind'), to: err('to'), reason: err('reason') };
  const el = h('form', {
    class: 'esc-form', testid: 'escalate-form', 'data-lang': state.lang, novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (form.sending) return;
      for (const k of Object.keys(errs)) { errs[k].hidden = true; errs[k].textContent = ''; }
      form.sending = true;
      button.disabled = true;
      button.textContent = t('esc.sending');
      status.textContent = '';
      try {
        const view = await api('POST', `incidents/${encodeURIComponent(inc.id)}/escalate`,
          { body: { kind: kind.value, to: to.value.trim(), reason: reason.value.trim() } });
        const names = (view?.paged || []).filter((p) => p.reason === 'manual').map((p) => p.name);
        status.textContent = t('esc.done', { names: names.join(', ') || '—' });
        reason.value = '';
        refresh();
      } catch (e) {
        if (e instanceof ProblemError && e.problem.errors.length) {
          for (const f of e.problem.errors) {
            const box = errs[f.field] || errs.reason;
            box.hidden = false;
            box.textContent = f.message;
          }
        } else {
          status.textContent = errorText(e);
        }
      } finally {
        form.sending = false;
        button.disabled = false;
        button.textContent = t('esc.submit');
      }
    },
  },
  h('h3', {}, t('esc.form')),
  h('label', { for: 'esc-kind' }, t('esc.kind')), kind, errs.kind,
  h('label', { for: 'esc-to' }, t('esc.to')), to,
  h('datalist', { id: 'esc-teams' }, teams.map((id) => h('option', { value: id }, teamName(id)))),
  h('p', { class: 'hint' }, t('esc.toHint')), errs.to,
  h('label', { for: 'esc-reason' }, t('esc.reason')), reason, errs.reason,
  button, status);
  return el;
}

// escalationEventText is the timeline's text of an escalation event, or null.
export function escalationEventText(ev) {
  const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
  const names = (list) => (Array.isArray(list) ? list.map((p) => p.name).filter(Boolean).join(', ') : '');
  switch (ev.type) {
    case 'incident.escalated':
      if (d.kind === 'functional' || d.kind === 'hierarchical') {
        return t('tl.escalatedManual', {
          actor: ev.actor?.name || '—', kind: t(`esc.kind.${d.kind}`).replace(/\s*\(.*\)$/, ''), names: names(d.paged) || '—', reason: d.reason || '',
        });
      }
      return names(d.paged) ? t('tl.escalated', { step: d.step, names: names(d.paged) }) : t('tl.escalatedNone', { step: d.step });
    case 'incident.escalation_empty':
      return t('tl.escalationEmpty', { step: d.step });
    case 'incident.escalation_owned':
      return t('tl.escalationOwned', { name: d.by?.name || '—' });
    case 'incident.escalation_exhausted':
      return t('tl.escalationExhausted');
    case 'incident.sla_breached':
      return d.kind === 'resolve' ? t('tl.slaBreachedResolve') : t('tl.slaBreachedAck');
    default:
      return null;
  }
}

// ---------------------------------------------------------------- the live board

// board keeps each incident's escalation in a line: from the list (GET /incidents has
// `escalation`), then from the stream's escalation frames, so the board follows the
// ladder without fetching anything.
const board = new Map();

// seedEscalation takes the summary an incident of the list carries.
export function seedEscalation(inc) {
  if (inc && inc.id && inc.escalation) board.set(inc.id, { ...inc.escalation });
}

// noteEscalation updates the line from a frame of the stream.
export function noteEscalation(ev) {
  const id = ev.incident?.id;
  if (!id || typeof ev.type !== 'string') return;
  const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
  const cur = board.get(id) || { state: 'running', step: 0, steps: 0, next_step_at: null, pending: 0 };
  switch (ev.type) {
    case 'incident.escalated':
      if (d.kind === 'ladder') {
        Object.assign(cur, { step: d.step, steps: d.steps || cur.steps, next_step_at: d.next_step_at || null });
        if (!d.next_step_at) cur.state = 'exhausted';
      }
      break;
    case 'incident.escalation_owned':
      Object.assign(cur, { state: 'owned', next_step_at: null });
      break;
    case 'incident.escalation_exhausted':
      Object.assign(cur, { state: 'exhausted', next_step_at: null });
      break;
    case 'incident.sla_breached':
      if (d.kind === 'acknowledge') cur.breached = true;
      break;
    default:
      return;
  }
  board.set(id, cur);
}

export function forgetBoardEscalations() { board.clear(); }

// escalationSig is what the board item's line depends on.
export function escalationSig(id) { return JSON.stringify(board.get(id) || null); }

// escalationLine is the board item's line: "Paso 2 de 3 · siguiente 15:05 (en 3:12)".
export function escalationLine(id) {
  const e = board.get(id);
  if (!e || !e.steps) return null;
  const parts = [t('esc.step', { step: e.step, steps: e.steps })];
  if (e.state === 'running' && e.next_step_at) {
    return h('p', { class: 'item-esc', testid: 'item-escalation', 'data-state': e.state },
      `${parts[0]} · ${t('esc.next').toLowerCase()} `, h('span', { 'data-next': e.next_step_at }, nextText(e.next_step_at)));
  }
  parts.push(t(`esc.state.${e.state}`));
  return h('p', { class: 'item-esc', testid: 'item-escalation', 'data-state': e.state }, parts.join(' · '));
}
