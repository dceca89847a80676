// The Team view's data (loadTeamAnalytics of src/extension/views/analyticsData.ts) from a
// carrier that answers the route table's calls: which project it asks for, and what a
// refusal of the gateway (its HTTP status) tells the person.
import assert from 'node:assert/strict';
import { GatewayHttpError, type RouteCarrier } from '../../src/conduit/client/call';
import { TeamAnalyticsError, loadTeamAnalytics } from '../../src/extension/views/analyticsData';
import type { AnyRoute } from '../../src/protocol/route';
import { ROUTES } from '../../src/protocol/routes';
import type { WorkspaceLink } from '../../src/protocol/team';

/** Answers the links route with `links`, and the members route with `members` (an error is thrown); records the paths. */
function gateway(links: WorkspaceLink[], members: unknown): RouteCarrier & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    async send(route: AnyRoute, path: string) {
      paths.push(path);
      if (route === ROUTES.workspaceLinks) return links;
      if (route === ROUTES.analyticsMembers) {
        if (members instanceof Error) throw members;
        return members;
      }
      throw new Error(`unexpected ${route.method} ${path}`);
    },
  };
}

const refusal = (status: number) => new GatewayHttpError(`refused with ${status}`, status);

describe('unit: the Team view\'s data', () => {
  it('says why there is none: signed out (409), no such project (404), else failed', async () => {
    for (const [status, problem] of [[409, 'signedOut'], [404, 'noProject'], [500, 'failed']] as const) {
      await assert.rejects(loadTeamAnalytics(gateway([], refusal(status)), 'ws', { range: 'month' }), (err: unknown) =>
        err instanceof TeamAnalyticsError && err.problem === problem && err.message === `refused with ${status}`);
    }
  });

  it('a refusal that is not the gateway\'s (the connection) is a failure', async () => {
    await assert.rejects(loadTeamAnalytics(gateway([], Object.assign(new Error('socket hang up'), { status: 409 })), 'ws', { range: 'month' }), (err: unknown) =>
      err instanceof TeamAnalyticsError && err.problem === 'failed');
  });

  it('asks for the shared project the workspace is linked to, else for the workspace\'s own', async () => {
    const link = { workspaceKey: 'ws', projectId: 'p-shared' } as WorkspaceLink;
    const linked = gateway([link], refusal(500));
    await assert.rejects(loadTeamAnalytics(linked, 'ws', { range: 'month' }));
    assert.match(linked.paths[1], /^\/v1\/conduit\/analytics\/members\?project=p-shared&/);
    const own = gateway([{ ...link, workspaceKey: 'other' }], refusal(500));
    await assert.rejects(loadTeamAnalytics(own, 'ws', { range: 'month' }));
    assert.match(own.paths[1], /^\/v1\/conduit\/analytics\/members\?project=ws&/);
  });
});
