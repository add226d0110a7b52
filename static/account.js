// OPTIMUM BCP web app: what belongs to the signed-in account — the countdown a 429 imposes
// on a form ("Demasiados intentos; espere N s"), and the "Cambiar contraseña" card of
// "Mi perfil" (POST /api/v1/me/password {current, new}).

import { state, t, h, $, view, api, ProblemError, errorText, retryAfter } from './core.js';

// ---------------------------------------------------------------- 429 countdowns

// A cooldown holds until when a form must wait. Its button and message are looked up
// afresh at every tick (find returns {button, message}), so the countdown survives
// redraws of the page (a change of language, a page drawn again).
export function newCooldown(find) {
  return { until: 0, timer: 0, find };
}

// startCooldown starts (or extends) the wait from a 429 answer; false when err is none.
export function startCooldown(cd, err) {
  const s = retryAfter(err);
  if (!s || !(err instanceof ProblemError) || err.status !== 429) return false;
  cd.until = Math.max(cd.until, Date.now() + s * 1000);
  tickCooldown(cd);
  return true;
}

export function coolingDown(cd) { return cd.until > Date.now(); }

// tickCooldown shows the seconds left, disables the button, and undoes both at the end.
export function tickCooldown(cd) {
  clearTimeout(cd.timer);
  cd.timer = 0;
  const { button, message } = cd.find() || {};
  const left = Math.ceil((cd.until - Date.now()) / 1000);
  if (left > 0) {
    if (button) {
      button.disabled = true;
      button.dataset.cooldown = 'true';
    }
    if (message) {
      message.textContent = t('wait.tooMany', { n: left });
      message.hidden = false;
      message.dataset.cooldown = 'true';
    }
    cd.timer = setTimeout(() => tickCooldown(cd), ((cd.until - Date.now()) % 1000 || 1000) + 5);
    return;
  }
  cd.until = 0;
  if (button?.dataset.cooldown) {
    delete button.dataset.cooldown;
    button.disabled = false;
  }
  if (message?.dataset.cooldown) {
    delete message.dataset.cooldown;
    message.textContent = '';
    message.hidden = true;
  }
}

export function stopCooldown(cd) {
  cd.until = 0;
  tickCooldown(cd);
}

// ---------------------------------------------------------------- change password

const PW_FIELDS = ['current', 'new', 'repeat'];

function freshPassword() {
  return { draft: { current: '', new: '', repeat: '' }, fieldErrors: {}, problem: null, saving: false, done: false };
}

let pw = freshPassword();
const pwCooldown = newCooldown(() => ({
  button: $('[data-testid="password-save"]', view()),
  message: $('[data-testid="password-wait"]', view()),
}));

// hasPassword says whether the signed-in account is a user (API tokens have no password).
export function hasPassword() { return /^usr_/.test(state.me?.id || ''); }

// forgetAccount drops what the card remembers, at sign-out.
export function forgetAccount() {
  pw = freshPassword();
  stopCooldown(pwCooldown);
}

// passwordCard is the "Cambiar contraseña" form. redraw draws the page again (the card
// keeps what was typed across redraws).
export function passwordCard(redraw) {
  const d = pw.draft;
  const input = (name, autocomplete) => {
    const el = h('input', {
      id: `pw-${name}`, name: `pw-${name}`, type: 'password', class: 'input', testid: `pw-${name}`, autocomplete,
      'aria-describedby': `${name === 'new' ? 'pw-new-hint ' : ''}pw-err-${name}`,
      'aria-invalid': pw.fieldErrors[name] ? 'true' : null,
      oninput: (e) => {
        d[name] = e.target.value;
        pw.done = false;
        if (pw.fieldErrors[name]) {
          delete pw.fieldErrors[name];
          e.target.removeAttribute('aria-invalid');
          const line = $(`#pw-err-${name}`, view());
          if (line) { line.hidden = true; line.textContent = ''; }
        }
      },
    });
    el.value = d[name];
    return el;
  };
  const errLine = (name) => h('p', {
    class: 'field-error', id: `pw-err-${name}`, testid: `pw-err-${name}`, hidden: !pw.fieldErrors[name],
  }, pw.fieldErrors[name] || '');
  const field = (name, autocomplete, hint) => h('div', { class: 'field' },
    h('label', { for: `pw-${name}`, class: 'label' }, t(`pw.${name}`)),
    hint ? h('p', { class: 'hint', id: 'pw-new-hint' }, hint) : null,
    input(name, autocomplete),
    errLine(name));

  const form = h('form', {
    class: 'card stack', testid: 'password-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (pw.saving || coolingDown(pwCooldown)) return;
      pw.done = false;
      pw.problem = null;
      pw.fieldErrors = {};
      if (!d.current) pw.fieldErrors.current = t('pw.v.current');
      if (!d.new) pw.fieldErrors.new = t('pw.v.new');
      else if (d.repeat !== d.new) pw.fieldErrors.repeat = t('pw.v.repeat');
      if (Object.keys(pw.fieldErrors).length) {
        redraw();
        focusFirst();
        return;
      }
      pw.saving = true;
      redraw();
      try {
        // signin: a 401 here means "wrong current password", not "signed out".
        await api('POST', 'me/password', { body: { current: d.current, new: d.new }, signin: true });
        pw = freshPassword();
        pw.done = true;
      } catch (err) {
        pw.saving = false;
        if (startCooldown(pwCooldown, err)) {
          // The countdown says it all.
        } else if (err instanceof ProblemError && err.status === 401) {
          pw.fieldErrors.current = err.problem.detail;
        } else if (err instanceof ProblemError) {
          const extra = [];
          for (const fe of err.problem.errors) {
            const name = String(fe.field || '');
            const msg = fe.message || String(fe);
            if (PW_FIELDS.includes(name)) pw.fieldErrors[name] = pw.fieldErrors[name] ? `${pw.fieldErrors[name]} ${msg}` : msg;
            else extra.push(name ? `${name}: ${msg}` : msg);
          }
          pw.problem = [err.problem.detail, ...extra].join(' ');
        } else {
          pw.problem = errorText(err);
        }
      }
      pw.saving = false;
      redraw();
      if (pw.done) $('[data-testid="password-done"]', view())?.focus();
      else focusFirst();
    },
  },
  h('h2', {}, t('pw.title')),
  pw.done ? h('p', { class: 'alert alert-ok', role: 'status', tabindex: '-1', testid: 'password-done' }, t('pw.done')) : null,
  pw.problem ? h('p', { class: 'alert alert-error', role: 'alert', testid: 'password-error' }, pw.problem) : null,
  // Browsers' password managers want to know whose password it is.
  h('input', { type: 'text', name: 'username', autocomplete: 'username', value: state.me?.name || '', hidden: true, readonly: true, tabindex: '-1', 'aria-hidden': 'true' }),
  field('current', 'current-password'),
  field('new', 'new-password', t('pw.new.hint')),
  field('repeat', 'new-password'),
  h('p', { class: 'error', role: 'status', testid: 'password-wait', hidden: true }),
  h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'password-save', disabled: pw.saving }, pw.saving ? t('dir.saving') : t('pw.save')));
  // Draw the countdown of a 429 on the new elements once they are in the page.
  queueMicrotask(() => tickCooldown(pwCooldown));
  return form;
}

function focusFirst() {
  const el = $('[data-testid="password-form"] [aria-invalid="true"]', view());
  if (el) el.focus();
}
