// The processing status pill and queue drawer: the project's jobs, loaded once and kept
// live from the realtime stream (job.queued / job.progress / job.done / job.failed).
import { api, unwrap, type Job } from './api/client';
import { follow, type ServerEvent } from './realtime';

export const jobs = $state({
  projectId: null as string | null,
  items: [] as Job[],
  live: false,
  loading: false,
});

type Listener = (e: ServerEvent) => void;
const listeners = new Set<Listener>();
/** Screens listen to the same stream (cluster.updated, asset.updated). */
export function onServerEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let stop: (() => void) | null = null;

export function activeJobs(): Job[] {
  return jobs.items.filter((j) => j.status === 'queued' || j.status === 'running');
}

function apply(e: ServerEvent): void {
  const d = e.data as Partial<Job> & { jobId?: string };
  const id = d.jobId ?? d.id;
  if (e.type.startsWith('job.') && id) {
    const status = (d.status ?? e.type.slice(4)) as Job['status'];
    const known = jobs.items.find((j) => j.id === id);
    if (known) {
      known.status = ['queued', 'running', 'done', 'failed', 'canceled'].includes(status) ? status : known.status;
      if (typeof d.progress === 'number') known.progress = d.progress;
      if (d.error) known.error = d.error;
    } else {
      jobs.items.unshift({
        id,
        type: d.type ?? 'job',
        status: ['queued', 'running', 'done', 'failed', 'canceled'].includes(status) ? status : 'running',
        progress: d.progress ?? null,
        assetId: d.assetId ?? null,
        projectId: jobs.projectId,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      } as Job);
      if (jobs.items.length > 500) jobs.items.length = 500;
    }
  }
  for (const fn of listeners) fn(e);
}

export async function watchProject(projectId: string | null): Promise<void> {
  if (jobs.projectId === projectId) return;
  stop?.();
  stop = null;
  jobs.projectId = projectId;
  jobs.items = [];
  jobs.live = false;
  if (!projectId) return;
  jobs.loading = true;
  try {
    const page = await unwrap(api.GET('/projects/{projectId}/jobs', { params: { path: { projectId }, query: { limit: 200 } } }));
    if (jobs.projectId === projectId) jobs.items = page.items;
  } catch {
    /* the shell shows the error */
  } finally {
    jobs.loading = false;
  }
  if (jobs.projectId !== projectId) return;
  stop = follow(projectId, apply, (up) => (jobs.live = up));
}
