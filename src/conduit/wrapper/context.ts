/** The session context conduit-claude reads from the SYNAPSE_* environment. */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { locateClaude, type ClaudeLocation } from '../client/claudeLocator';
import { projectIdentityOfWorkingDirectory } from '../client/projectIdentity';
import { parseAgentModelConfig, parseJsonVariable, parseProjectModelConfig } from '../../protocol/modelConfig';
import { CONTEXT_HEADER, MAX_CONTEXT_HEADER_BYTES, encodeSessionContext, type SessionContext } from '../../protocol/sessionContext';
import { sessionIdOf } from '../../protocol/session';
import type { ConduitMetadataLine, UsageRecord } from '../../protocol/usage';
import { ValidationError } from '../../protocol/validate';

/**
 * The session's context. Without SYNAPSE_PROJECT_ID (claude run in a terminal rather than
 * by the extension; set to '' it means no project), the project is the one of the folder `cwd` is in, derived as the
 * extension derives a workspace folder's (src/conduit/client/projectIdentity.ts), so both
 * record into the same project.
 */
export function sessionContextFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): SessionContext {
  // The gateway refuses a context with an id over 200 characters (parseSessionContext):
  // say so now, naming the variable, rather than on every request of the session.
  const id = (name: string): string | undefined => {
    const v = env[name];
    if (v && v.length > 200) throw new ValidationError(name, 'longer than 200 characters');
    return v || undefined;
  };
  const ctx: SessionContext = { sessionId: id('CONDUIT_SESSION_ID') ?? randomUUID() };
  // Set but empty: explicitly no project.
  const projectId = env.SYNAPSE_PROJECT_ID === undefined ? projectIdentityOfWorkingDirectory(cwd).key : id('SYNAPSE_PROJECT_ID');
  const agentId = id('SYNAPSE_AGENT_ID');
  const agentType = id('SYNAPSE_AGENT_TYPE');
  if (projectId) ctx.projectId = projectId;
  if (agentId) ctx.agentId = agentId;
  if (agentType) ctx.agentType = agentType;
  const project = configVariable(env, 'SYNAPSE_PROJECT_MODEL_CONFIG', parseProjectModelConfig);
  if (project) ctx.projectModelConfig = project.config;
  const agent = configVariable(env, 'SYNAPSE_AGENT_MODEL_CONFIG', parseAgentModelConfig);
  if (agent) ctx.agentModelConfig = agent.config;
  // The configurations are what can make it large (the ids are 200 characters at most).
  const encoded = encodeSessionContext(ctx).length;
  if (encoded > MAX_CONTEXT_HEADER_BYTES) {
    const set = [project, agent].filter((c) => c !== null);
    throw new ValidationError(set.map((c) => c.name).join(' and '),
      `${set.map((c) => `${c.bytes} bytes`).join(' and ')} of JSON make a session context of ${encoded} bytes in the ${CONTEXT_HEADER} request header, over its limit of ${MAX_CONTEXT_HEADER_BYTES}; shorten the configuration`);
  }
  return ctx;
}

/**
 * The most JSON a configuration variable may hold: base64url makes 4 bytes of 3, so more
 * cannot fit in the context header. Checked before parsing: the variable itself is also
 * passed on to claude, and one over 128 KB would make spawning it fail (E2BIG).
 */
const MAX_CONFIG_BYTES = (MAX_CONTEXT_HEADER_BYTES * 3) / 4;

/** One JSON configuration variable, parsed; null when unset. */
function configVariable<T>(env: NodeJS.ProcessEnv, name: string, parse: (v: unknown, path: string) => T): { name: string; bytes: number; config: T } | null {
  const text = env[name];
  if (!text) return null;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) {
    throw new ValidationError(name, `is ${bytes} bytes, over the limit of ${MAX_CONFIG_BYTES}: conduit-claude sends it to the gateway in the ${CONTEXT_HEADER} request header, which holds at most ${MAX_CONTEXT_HEADER_BYTES} bytes once encoded; shorten the configuration`);
  }
  return { name, bytes, config: parseJsonVariable(name, text, parse) };
}

/**
 * The real claude, searched as src/conduit/client/claudeLocator.ts says: CONDUIT_CLAUDE_PATH
 * (how VS Code passes what it found, or its conduit.claude.path setting), else PATH and the
 * usual install places, the project being the folder conduit-claude runs in.
 */
export function findClaude(env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<ClaudeLocation> {
  return locateClaude({
    configured: env.CONDUIT_CLAUDE_PATH,
    configuredName: 'CONDUIT_CLAUDE_PATH',
    env,
    homeDir: env.HOME || env.USERPROFILE || os.homedir(),
    projectDirs: [cwd],
    // The bundle is <package>/dist/conduit-claude.js: a checkout or an install with claude beside it.
    ownDir: path.dirname(__dirname),
  });
}

export function wantsStreamJson(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--output-format' && args[i + 1] === 'stream-json') return true;
    if (args[i] === '--output-format=stream-json') return true;
  }
  return false;
}

export function metadataLine(r: UsageRecord): ConduitMetadataLine {
  const sessionId = sessionIdOf(r.context);
  const line: ConduitMetadataLine = {
    type: 'conduit_metadata',
    data: {
      requestId: r.id,
      ...(sessionId ? { sessionId } : {}),
      routingDecision: {
        model: r.decision.model, source: r.decision.source, tokenCount: r.decision.tokenCount, timestamp: r.decision.timestamp,
        rule: r.decision.rule, requestedModel: r.decision.requestedModel,
        // The person's own endpoint, when the request went there (personEndpoint.ts).
        ...(r.decision.upstream ? { upstream: r.decision.upstream } : {}),
      },
    },
  };
  if (r.context.projectId) {
    line.data.projectContext = r.context.agentId ? { projectId: r.context.projectId, agentId: r.context.agentId } : { projectId: r.context.projectId };
  }
  // A request the provider never answered with usage but that has a cost (a refusal: 0) says so,
  // so that a reader adding up the lines gets the records' sum.
  if (r.usage || r.cost.cost !== null) {
    line.data.usage = {
      inputTokens: r.usage?.inputTokens ?? 0, outputTokens: r.usage?.outputTokens ?? 0,
      cacheCreationTokens: r.usage?.cacheCreationTokens ?? 0, cacheReadTokens: r.usage?.cacheReadTokens ?? 0, cost: r.cost.cost,
    };
  }
  return line;
}
