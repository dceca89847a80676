// What conduit-claude tells of a session beside its requests (PUT /v1/conduit/sessions/<id>/info,
// sessionInfoRoute.ts): claude's session id and an excerpt of the first prompt, one row per
// conduit-claude run in usage_session_info (migration 20261203000003). The sessions query
// shows the excerpt (analytics/sessions.ts).
import type { SqlClient } from './sqlClient';

export interface SessionInfoInput {
  /** Conduit's id of the conduit-claude run. */
  sessionId: string;
  claudeSessionId: string | null;
  /** Already cut to FIRST_PROMPT_CHARS and made storable (the route does it). */
  firstPrompt: string | null;
}

/** Stores a run's information; a later report fills what an earlier one lacked and never erases it. */
export async function saveSessionInfo(db: SqlClient, localUserId: string, info: SessionInfoInput): Promise<void> {
  await db.query(
    `insert into public.usage_session_info (session_id, user_id, claude_session_id, first_prompt)
     values ($1, $2::uuid, $3, $4)
     on conflict (session_id) do update set
       claude_session_id = coalesce(excluded.claude_session_id, usage_session_info.claude_session_id),
       first_prompt = coalesce(usage_session_info.first_prompt, excluded.first_prompt),
       updated_at = now()`,
    [info.sessionId, localUserId, info.claudeSessionId, info.firstPrompt]);
}
