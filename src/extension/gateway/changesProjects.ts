/**
 * Which calls of the gateway's API change a project, an agent or a budget (a budget is a
 * field of its project or agent): after one, the views showing them read them again
 * (GatewayApi.onDidChangeProjects). Told by the route called, not by its path.
 */
import type { AnyRoute } from '../../protocol/route';
import { ROUTES } from '../../protocol/routes';

const PROJECT_CHANGES: ReadonlySet<AnyRoute> = new Set<AnyRoute>([ROUTES.saveProject, ROUTES.createAgent, ROUTES.saveAgent, ROUTES.deleteAgent]);

export function changesProjects(route: AnyRoute): boolean {
  return PROJECT_CHANGES.has(route);
}
