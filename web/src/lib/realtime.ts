// The project's Server-Sent Events (GET /v1/realtime?projectId=...), read with fetch so the
// studio header and a bearer token go along; reconnects with Last-Event-ID after a break.
//
// Only a page in view keeps its stream: the stream is closed on `pagehide` and while the tab
// is hidden, and opened again (from Last-Event-ID: nothing is missed) when it shows. A
// browser gives a host six HTTP/1.1 connections, and a stream held open takes one for as
// long as it lasts: Chromium keeps a page it left in its back/forward cache with the
// stream still open for about a minute, so six cull screens opened in a minute (a frame
// opened by URL, a reload, the back button) held all six and the next request (the 100%
// loupe) waited for one of them to time out (~50 s); six hidden tabs would hold them for good.
import { API_BASE, studioHeaders } from './api/client';

export interface ServerEvent {
  type: string;
  id: string;
  data: Record<string, unknown>;
}

export function follow(projectId: string, onEvent: (e: ServerEvent) => void, onState?: (up: boolean) => void): () => void {
  let ctrl: AbortController | null = null;
  let lastId = '';
  let stopped = false;
  let paused = document.visibilityState === 'hidden';
  let wake: (() => void) | null = null; // ends the wait before the next try

  async function once(signal: AbortSignal): Promise<void> {
    const q = new URLSearchParams({ projectId });
    const headers = studioHeaders({ Accept: 'text/event-stream' });
    if (lastId) headers['Last-Event-ID'] = lastId;
    const res = await fetch(`${API_BASE}/realtime?${q}`, { headers, credentials: 'same-origin', signal });
    if (!res.ok || !res.body) throw new Error(`realtime: ${res.status}`);
    onState?.(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut).replace(/^\r?\n\r?\n/, '');
        let type = 'message';
        let id = '';
        const data: string[] = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') type = val;
          else if (field === 'id') id = val;
          else if (field === 'data') data.push(val);
        }
        if (id) lastId = id;
        if (!data.length) continue;
        try {
          onEvent({ type, id, data: JSON.parse(data.join('\n')) });
        } catch {
          /* a line that is not JSON: skipped */
        }
      }
    }
  }

  const pause = () => {
    paused = true;
    ctrl?.abort(); // the connection is given back at once
  };
  const resume = () => {
    if (document.visibilityState === 'hidden') return;
    paused = false;
    wake?.();
  };
  const onVisibility = () => (document.visibilityState === 'hidden' ? pause() : resume());
  addEventListener('pagehide', pause);
  addEventListener('pageshow', resume);
  document.addEventListener('visibilitychange', onVisibility);

  void (async () => {
    let wait = 500;
    while (!stopped) {
      if (paused) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      ctrl = new AbortController();
      try {
        await once(ctrl.signal);
        wait = 500;
      } catch {
        /* a break: tried again below */
      }
      ctrl = null;
      if (stopped) return;
      onState?.(false);
      if (paused) continue; // tried again at once when the page shows
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, wait);
      });
      wake = null;
      wait = Math.min(wait * 2, 10000);
    }
  })();
  return () => {
    stopped = true;
    removeEventListener('pagehide', pause);
    removeEventListener('pageshow', resume);
    document.removeEventListener('visibilitychange', onVisibility);
    ctrl?.abort();
    wake?.();
  };
}
