// The user's projects (the Projects screen, the project switcher, the palette).
import { api, unwrap, type Project } from './api/client';

export const projects = $state({
  items: [] as Project[],
  loading: false,
  loaded: false,
  error: '' as string,
});

export async function loadProjects(): Promise<void> {
  projects.loading = true;
  projects.error = '';
  try {
    const items: Project[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Project[]; pageInfo: { nextCursor?: string | null } } = await unwrap(
        api.GET('/projects', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
      );
      items.push(...page.items);
      cursor = page.pageInfo.nextCursor ?? null;
    } while (cursor && items.length < 1000);
    projects.items = items.filter((p) => p.status === 'active');
    projects.loaded = true;
  } catch (e) {
    projects.error = e instanceof Error ? e.message : String(e);
  } finally {
    projects.loading = false;
  }
}

export async function createProject(title: string, shootDate?: string): Promise<Project> {
  const p = await unwrap(api.POST('/projects', { body: { title, ...(shootDate ? { shootDate } : {}) } }));
  projects.items.unshift(p);
  return p;
}

export async function archiveProject(id: string): Promise<void> {
  await unwrap(api.POST('/projects/{projectId}/archive', { params: { path: { projectId: id } } }));
  projects.items = projects.items.filter((p) => p.id !== id);
}

export function projectTitle(id: string | null | undefined): string {
  return projects.items.find((p) => p.id === id)?.title ?? '';
}

export function stat(p: Project, name: string): number {
  const v = (p.stats as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'number' ? v : 0;
}
