// The shell's shared state: toasts, the confirmation dialog, the connection banner, the
// command palette's actions, the sidebar.
import { ApiError } from './api/client';

export interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  text: string;
}
export const toasts = $state<Toast[]>([]);
let nextToast = 1;
export function toast(text: string, kind: Toast['kind'] = 'info', ms = 3500): void {
  const id = nextToast++;
  toasts.push({ id, kind, text });
  if (toasts.length > 4) toasts.shift();
  setTimeout(() => dismissToast(id), ms);
}
export function dismissToast(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

export interface ConfirmRequest {
  title: string;
  body: string;
  confirm: string;
  danger?: boolean;
  resolve: (ok: boolean) => void;
}
export const dialog = $state<{ current: ConfirmRequest | null }>({ current: null });
export function confirmAction(title: string, body: string, confirm = 'Confirm', danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    dialog.current = { title, body, confirm, danger, resolve };
  });
}

/** One clear message for the page: server gone, signed out, not found, edited elsewhere. */
export const connection = $state({
  offline: false,
  signedOut: false,
  message: '' as string,
});

export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  if (err.status === 0) return 'The kilo server is not answering. Decisions are kept and sent when it is back.';
  if (err.status === 401) return 'Your session has ended. Sign in again to continue.';
  if (err.status === 404) return 'That item no longer exists (deleted or moved elsewhere).';
  if (err.status === 409) return 'This was changed elsewhere (another tab or the terminal). The view was refreshed.';
  if (err.status === 429) return 'Too many requests; slowing down.';
  return err.message || `The server answered ${err.status}.`;
}

export interface Command {
  id: string;
  label: string;
  hint?: string;
  group: string;
  run: () => void;
}
/** Commands registered by the shell and by the screen in view (palette: Ctrl+K / Cmd+K). */
export const commands = $state<{ shell: Command[]; screen: Command[] }>({ shell: [], screen: [] });
export const shell = $state({
  sidebarCollapsed: localStorage.getItem('kilo.sidebar') === 'collapsed',
  paletteOpen: false,
  queueOpen: false,
  newProjectOpen: false,
});
export function toggleSidebar(): void {
  shell.sidebarCollapsed = !shell.sidebarCollapsed;
  localStorage.setItem('kilo.sidebar', shell.sidebarCollapsed ? 'collapsed' : 'expanded');
}
