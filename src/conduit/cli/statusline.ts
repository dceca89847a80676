/**
 * `conduit statusline`: Claude Code runs it with the session as JSON on stdin and shows
 * its first line under the prompt. Configure in ~/.claude/settings.json:
 *   "statusLine": { "type": "command", "command": "conduit statusline" }
 */
import type { ConduitPaths } from '../client/paths';
import { findRunningGateway } from '../client/gatewayClient';
import { call } from '../client/call';
import { ROUTES } from '../../protocol/routes';
import { modelRoute } from '../../protocol/session';
import { formatUsd, shortModel } from '../../protocol/format';

function readStdin(timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) return resolve('');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => resolve(Buffer.concat(chunks).toString('utf8')), timeoutMs);
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.once('end', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

export async function statusLine(paths: ConduitPaths): Promise<number> {
  const input = await readStdin(500);
  let sessionId: string | undefined;
  try {
    sessionId = (JSON.parse(input) as { session_id?: string }).session_id;
  } catch { /* run by hand: no session */ }
  const gw = await findRunningGateway(paths);
  if (!gw) {
    console.log('Conduit: not running');
    return 0;
  }
  if (!sessionId) {
    console.log(`Conduit: running on :${gw.port}`);
    return 0;
  }
  const s = await call(gw, ROUTES.session, { params: { id: sessionId } }, { timeoutMs: 500 }).catch(() => null);
  if (!s) {
    console.log('Conduit: no requests yet');
    return 0;
  }
  const cost = `${formatUsd(s.cost)}${s.costIncomplete ? '+?' : ''}`;
  // The last request's model as claude asked for it and as it was routed ("opus-5-5 → sonnet-5-5").
  const asked = s.records[s.records.length - 1]?.decision.requestedModel;
  const model = s.lastModel ? modelRoute(asked ? shortModel(asked) : '', shortModel(s.lastModel)) : '?';
  console.log(`⇄ ${model} · ${s.lastSource ?? ''} · ${cost} · ${s.requests} req`);
  return 0;
}
