// What every page must pass, at both sizes: axe-core (WCAG 2.1 A and AA rules) without a
// serious or critical violation, and every control at least 44 CSS px tall (a thumb on a
// phone; WCAG 2.5.5). Shared by a11y.test.mjs and the tests of single pages.
import assert from 'node:assert/strict';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { ARTIFACTS } from './harness.mjs';

export const MIN_TAP = 44;

// The two sizes every page is tested at.
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-MX' };
export const DESKTOP = { viewport: { width: 1366, height: 900 }, locale: 'es-MX' };

// axeProblems lists the serious and critical violations of WCAG 2.1 A/AA on the page.
export async function axeProblems(page) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

// smallTargets lists the visible controls smaller than MIN_TAP px in height (or width,
// for a control with no text such as an icon button). A check box or radio counts as its
// label, which is what a finger presses. Links inside a sentence are exempt (WCAG 2.5.5
// "inline"), as is what is not shown.
export async function smallTargets(page) {
  return page.evaluate((min) => {
    const out = [];
    const seen = new Set();
    const sel = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [role="button"], [role="tab"]';
    for (let el of document.querySelectorAll(sel)) {
      if ((el.type === 'checkbox' || el.type === 'radio') && el.closest('label')) el = el.closest('label');
      // A visually hidden input (a styled file picker) is pressed through its label.
      if (el.tagName === 'INPUT' && el.getBoundingClientRect().width <= 2 && el.id) el = document.querySelector(`label[for="${el.id}"]`) || el;
      if (seen.has(el)) continue;
      seen.add(el);
      if (el.closest('[hidden], .sr-only, .skip')) continue;
      const st = getComputedStyle(el);
      if (st.visibility === 'hidden' || st.display === 'none') continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (el.tagName === 'A' && st.display === 'inline') {
        // A link in running text: its block says more than the link does.
        const block = el.parentElement?.closest('p, li, dd, td, div');
        if (block && block.textContent.trim().length > el.textContent.trim().length + 8) continue;
      }
      const textless = !el.textContent.trim() && el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.tagName !== 'TEXTAREA';
      if (r.height + 0.5 < min || (textless && r.width + 0.5 < min)) {
        const id = el.dataset.testid || el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30);
        out.push(`${el.tagName.toLowerCase()} "${id}" ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return out;
  }, MIN_TAP);
}

// pageProblems runs both checks on the page as it is, keeps a screenshot of it, and
// lists what it found, each line prefixed with name.
export async function pageProblems(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `a11y-${name}.png`), fullPage: true });
  const small = (await smallTargets(page)).map((x) => `${name}: smaller than ${MIN_TAP}px: ${x}`);
  const axe = (await axeProblems(page)).map((x) => `${name}: ${x}`);
  return [...small, ...axe];
}

// checkPage fails when pageProblems finds anything.
export async function checkPage(page, name) {
  assert.deepEqual(await pageProblems(page, name), [], `${name}: accessibility problems`);
}
