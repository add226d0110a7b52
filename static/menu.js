// OPTIMUM BCP web app: the header's "Más" menu. On a phone (under 760 px) the pages that
// do not fit the tab row (Escaleras, Simulacros), the profile and "Salir" open from it;
// on a wider screen its panel is laid out in the header and the button is not shown.

const OPEN = 'menu-open';

export function wireMenu() {
  const menu = document.querySelector('[data-testid="menu"]');
  const btn = menu.querySelector('[data-testid="nav-more"]');
  const panel = menu.querySelector('[data-testid="menu-panel"]');
  const set = (open) => {
    menu.classList.toggle(OPEN, open);
    btn.setAttribute('aria-expanded', String(open));
  };
  btn.addEventListener('click', () => {
    const open = !menu.classList.contains(OPEN);
    set(open);
    if (open) panel.querySelector('a:not([hidden]), button')?.focus();
  });
  panel.addEventListener('click', (e) => { if (e.target.closest('a, button')) set(false); });
  document.addEventListener('click', (e) => { if (!menu.contains(e.target)) set(false); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && menu.classList.contains(OPEN)) {
      set(false);
      btn.focus();
    }
  });
  window.addEventListener('hashchange', () => set(false));
}
