// Decisions leave through this queue, in the order they were made, each with its own
// Idempotency-Key (kept across retries, so a decision that reached the server before the
// connection broke is not applied twice). While the server is unreachable they wait (also
// across a reload: the queue is kept in localStorage) and go out when it answers again.
// A decision the server refuses (404 deleted, 409 changed elsewhere) is dropped with a
// message, never retried forever.
import { ApiError, newKey, xcall } from './api/client';
import { connection, describeError, toast } from './ui.svelte';

export interface Decision {
  key: string;
  path: string;
  body: unknown;
  label: string;
  projectId: string;
}

const STORE = 'kilo.outbox';
function load(): Decision[] {
  try {
    const raw = JSON.parse(localStorage.getItem(STORE) ?? '[]');
    return Array.isArray(raw) ? (raw as Decision[]) : [];
  } catch {
    return [];
  }
}

export const outbox = $state({ pending: load(), sending: false, sent: 0 });
// The keys this tab queued or took over at start: every tab of the origin shares the one
// localStorage entry, so a tab writes back only its own part and keeps the others' (a
// whole-list write dropped another tab's unsent decisions, lost if that tab then closed).
const mine = new Set(outbox.pending.map((d) => d.key));
type Done = (d: Decision, result: unknown, error?: ApiError) => void;
const doneListeners = new Set<Done>();
export function onDecisionDone(fn: Done): () => void {
  doneListeners.add(fn);
  return () => doneListeners.delete(fn);
}

function save(): void {
  const others = load().filter((d) => !mine.has(d.key));
  localStorage.setItem(STORE, JSON.stringify([...others, ...outbox.pending]));
}

export function enqueue(path: string, body: unknown, label: string, projectId: string): Decision {
  const d: Decision = { key: newKey(), path, body, label, projectId };
  mine.add(d.key);
  outbox.pending.push(d);
  save();
  void drain();
  return d;
}

let wake: (() => void) | null = null;
const sleep = (ms: number) =>
  new Promise<void>((r) => {
    wake = r;
    setTimeout(r, ms);
  });

/** Send what is queued, in order; called again while sending (the server answered
 * again, the browser is online), it cuts the wait before the next try short. */
export async function drain(): Promise<void> {
  if (outbox.sending) {
    wake?.();
    return;
  }
  outbox.sending = true;
  let backoff = 500;
  try {
    while (outbox.pending.length) {
      const d = $state.snapshot(outbox.pending[0]) as Decision;
      try {
        const result = await xcall('POST', d.path, d.body, { 'Idempotency-Key': d.key });
        outbox.pending.shift();
        save();
        outbox.sent++;
        backoff = 500;
        if (connection.offline) {
          connection.offline = false;
          toast('Back online: queued decisions sent.', 'success');
        }
        for (const fn of doneListeners) fn(d, result);
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, 'offline', String(e));
        if (err.offline || err.status >= 500 || err.status === 429) {
          connection.offline = err.offline || err.status >= 502;
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 4000);
          continue;
        }
        if (err.status === 401) return; // sign in again; the queue stays and is sent after
        outbox.pending.shift();
        save();
        toast(`Not applied: ${d.label}. ${describeError(err)}`, 'error', 6000);
        for (const fn of doneListeners) fn(d, undefined, err);
      }
    }
  } finally {
    outbox.sending = false;
  }
}

window.addEventListener('online', () => void drain());
