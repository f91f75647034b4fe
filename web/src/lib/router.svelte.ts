// A tiny router on the history API: every screen has its own URL, back/forward and reload
// keep the place. Links with data-nav (or any same-origin <a>) are handled without reloads.
export type Route =
  | { name: 'projects' }
  | { name: 'ingest'; projectId: string }
  | { name: 'cull'; projectId: string }
  | { name: 'notfound' };

export const location$ = $state({ path: '/', query: {} as Record<string, string> });

function read(): void {
  location$.path = window.location.pathname;
  location$.query = Object.fromEntries(new URLSearchParams(window.location.search));
}

export function parse(path: string): Route {
  if (path === '/' || path === '/projects' || path === '/projects/') return { name: 'projects' };
  const m = /^\/projects\/([^/]+)\/(ingest|cull)\/?$/.exec(path);
  if (m) return { name: m[2] as 'ingest' | 'cull', projectId: decodeURIComponent(m[1]) };
  return { name: 'notfound' };
}

export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === window.location.pathname + window.location.search) return;
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  read();
}

/** Change the query of the current URL in place (no history entry): the cull screen keeps
 * stack/frame/zoom there on every move, so reload and bookmarks land on the same frame. */
export function setQuery(values: Record<string, string | number | null | undefined>): void {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  history.replaceState(null, '', window.location.pathname + (s ? `?${s}` : ''));
  location$.query = Object.fromEntries(q);
}

export const paths = {
  projects: () => '/projects',
  ingest: (id: string) => `/projects/${encodeURIComponent(id)}/ingest`,
  cull: (id: string) => `/projects/${encodeURIComponent(id)}/cull`,
};

export function startRouter(): void {
  read();
  if (window.location.pathname === '/') navigate('/projects', { replace: true });
  window.addEventListener('popstate', read);
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('/v1/') || href.startsWith('/g/')) return;
    e.preventDefault();
    navigate(href);
  });
}
