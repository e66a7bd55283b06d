// A small history router for the app's paths under /app/ (the server answers index.html for
// every sub-path, so a reload or a shared link opens the same page).

import { useEffect, useState } from 'react';

export const BASE = '/app';

export function currentPath(): string {
  const path = window.location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length) || '/' : '/';
}

export function navigate(to: string): void {
  if (`${BASE}${to}` === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', `${BASE}${to}`);
  window.dispatchEvent(new Event('stockd:navigate'));
  window.scrollTo(0, 0);
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener('popstate', update);
    window.addEventListener('stockd:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('stockd:navigate', update);
    };
  }, []);
  return path;
}

/** Follows in-app links without a reload; keeps modified clicks (new tab) to the browser. */
export function onLinkClick(event: React.MouseEvent<HTMLAnchorElement>): void {
  const href = event.currentTarget.getAttribute('href');
  if (!href || !href.startsWith(`${BASE}/`) || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(href.slice(BASE.length));
}
