// Workspace links in the store (conduit_local.workspace_link, run by LedgerEngine in the
// ledger's worker thread): which workspaces record into a project shared with this person.
// The outbox reads them at every push (outbox.ts); the gateway's team route sets them after
// checking the project with Supabase (teamRoute.ts). A link the shared project stopped
// accepting rows through (the person was removed, or left from another machine) is marked
// broken by the outbox (markLinksBroken) and no longer applies; linking again clears it.
import type { WorkspaceLink } from '../../../protocol/team';
import type { SqlClient } from './sqlClient';

export type LinkOp =
  | { op: 'list' }
  | { op: 'set'; link: Omit<WorkspaceLink, 'linkedAt' | 'brokenAt' | 'brokenReason'> }
  | { op: 'remove'; workspaceKey: string };

export interface LinkOpValues {
  list: WorkspaceLink[];
  set: WorkspaceLink;
  remove: { unlinked: boolean };
}

interface LinkRow {
  workspace_key: string;
  remote_project_id: string;
  remote_user_id: string;
  project_name: string;
  owner_email: string | null;
  linked_at: Date | string;
  broken_at: Date | string | null;
  broken_reason: string | null;
}

const COLUMNS = `workspace_key, remote_project_id::text, remote_user_id::text, project_name, owner_email, linked_at, broken_at, broken_reason`;

function linkOf(r: LinkRow): WorkspaceLink {
  return {
    workspaceKey: r.workspace_key,
    projectId: r.remote_project_id,
    projectName: r.project_name,
    ownerEmail: r.owner_email,
    userId: r.remote_user_id,
    linkedAt: new Date(r.linked_at).toISOString(),
    brokenAt: r.broken_at ? new Date(r.broken_at).toISOString() : null,
    brokenReason: r.broken_at ? r.broken_reason : null,
  };
}

export async function runLinkOp(db: SqlClient, op: LinkOp): Promise<LinkOpValues[LinkOp['op']]> {
  switch (op.op) {
    case 'list': {
      const { rows } = await db.query<LinkRow>(`select ${COLUMNS} from conduit_local.workspace_link order by workspace_key`);
      return rows.map(linkOf);
    }
    case 'set': {
      const l = op.link;
      const { rows } = await db.query<LinkRow>(
        `insert into conduit_local.workspace_link (workspace_key, remote_project_id, remote_user_id, project_name, owner_email)
         values ($1, $2, $3, $4, $5)
         on conflict (workspace_key) do update set remote_project_id = excluded.remote_project_id,
           remote_user_id = excluded.remote_user_id, project_name = excluded.project_name,
           owner_email = excluded.owner_email, linked_at = now(), broken_at = null, broken_reason = null
         returning ${COLUMNS}`,
        [l.workspaceKey, l.projectId, l.userId, l.projectName, l.ownerEmail]);
      return linkOf(rows[0]);
    }
    case 'remove': {
      const { rows } = await db.query<{ workspace_key: string }>(
        `delete from conduit_local.workspace_link where workspace_key = $1 returning workspace_key`, [op.workspaceKey]);
      return { unlinked: rows.length > 0 };
    }
  }
}

/** The links that apply to a push as this user: local project id → the shared project's id. */
export async function linkedProjects(db: SqlClient, userId: string, localProjectIds: string[]): Promise<Map<string, string>> {
  if (!localProjectIds.length) return new Map();
  const { rows } = await db.query<{ id: string; remote: string }>(
    `select p.id::text as id, l.remote_project_id::text as remote
     from public.projects p
     join conduit_local.workspace_link l on l.workspace_key = p.workspace_key
     where p.id = any($1::uuid[]) and l.remote_user_id = $2::uuid and l.broken_at is null`,
    [localProjectIds, userId]);
  return new Map(rows.map((r) => [r.id, r.remote]));
}

/**
 * Marks this user's links to a shared project broken (that project refused their rows):
 * they stay listed, with the time and the reason, and no longer apply to pushes. Returns
 * the workspace keys marked.
 */
export async function markLinksBroken(db: SqlClient, userId: string, remoteProjectId: string, reason: string): Promise<string[]> {
  const { rows } = await db.query<{ workspace_key: string }>(
    `update conduit_local.workspace_link set broken_at = now(), broken_reason = $3
     where remote_user_id = $1::uuid and remote_project_id = $2::uuid and broken_at is null
     returning workspace_key`,
    [userId, remoteProjectId, reason]);
  return rows.map((r) => r.workspace_key).sort();
}

/** This user's broken links, oldest break first. */
export async function brokenLinks(db: SqlClient, userId: string): Promise<WorkspaceLink[]> {
  const { rows } = await db.query<LinkRow>(
    `select ${COLUMNS} from conduit_local.workspace_link
     where remote_user_id = $1::uuid and broken_at is not null order by broken_at, workspace_key`,
    [userId]);
  return rows.map(linkOf);
}

/**
 * A project's workspace key changed (projectStore.ts: an earlier key handed to the derived
 * one): its link follows, unless the new key has a link of its own, which wins; the earlier
 * key keeps none.
 */
export async function moveLink(db: SqlClient, previousKey: string, key: string): Promise<void> {
  await db.query(
    `update conduit_local.workspace_link set workspace_key = $2
     where workspace_key = $1 and not exists (select 1 from conduit_local.workspace_link where workspace_key = $2)`,
    [previousKey, key]);
  await db.query(`delete from conduit_local.workspace_link where workspace_key = $1`, [previousKey]);
}
