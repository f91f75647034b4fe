// The project's Server-Sent Events (GET /v1/realtime?projectId=...), read with fetch so the
// studio header and a bearer token go along; reconnects with Last-Event-ID after a break.
import { API_BASE, studioHeaders } from './api/client';

export interface ServerEvent {
  type: string;
  id: string;
  data: Record<string, unknown>;
}

export function follow(projectId: string, onEvent: (e: ServerEvent) => void, onState?: (up: boolean) => void): () => void {
  const ctrl = new AbortController();
  let lastId = '';
  let stopped = false;

  async function once(): Promise<void> {
    const q = new URLSearchParams({ projectId });
    const headers = studioHeaders({ Accept: 'text/event-stream' });
    if (lastId) headers['Last-Event-ID'] = lastId;
    const res = await fetch(`${API_BASE}/realtime?${q}`, { headers, credentials: 'same-origin', signal: ctrl.signal });
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

  void (async () => {
    let wait = 500;
    while (!stopped) {
      try {
        await once();
        wait = 500;
      } catch {
        if (stopped) return;
      }
      onState?.(false);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 10000);
    }
  })();
  return () => {
    stopped = true;
    ctrl.abort();
  };
}
