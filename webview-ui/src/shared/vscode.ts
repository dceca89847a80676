/**
 * The webview's side of the host connection: acquireVsCodeApi() (callable once per page),
 * typed posting, the typed request channel to the host (guarded receiving), persisted state
 * and the initial state that webviewHtml() embedded.
 */
import { ChannelClient, type ProtocolMap } from '../../../src/protocol/channel.js';
import { webviewWire, type WebviewToHostMessage } from '../../../src/protocol/webviewMessages.js';
import { INITIAL_STATE_ELEMENT_ID } from '../../../src/protocol/webviewPage.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState<T>(state: T): T;
}

declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

let api: VsCodeApi | undefined;

function vscode(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

export function post(message: WebviewToHostMessage): void {
  vscode().postMessage(message);
}

const pageId = Math.random().toString(36).slice(2, 8);

/**
 * The view's channel to the host (channel.ts over the webview wire): requests of the protocol
 * map P get their answers; every other host message that passes guard goes to onNotice,
 * others are dropped with a warning. supersede: the requests of which only the newest is
 * waited for (a period's figures, a save).
 */
export function connectHost<P extends ProtocolMap, M>(
  guard: (value: unknown) => value is M,
  onNotice: (message: M) => void,
  supersede: readonly (keyof P & string)[] = [],
): ChannelClient<P, WebviewToHostMessage> {
  const channel = new ChannelClient<P, WebviewToHostMessage>({ send: post, wire: webviewWire(pageId), supersede });
  window.addEventListener('message', (event: MessageEvent) => {
    if (!guard(event.data)) {
      console.warn('conduit webview: ignored a message it does not understand', typeof event.data === 'object' && event.data ? (event.data as { type?: unknown }).type : typeof event.data);
      return;
    }
    if (!channel.receive(event.data)) onNotice(event.data);
  });
  return channel;
}

/** The state saved by setState, when it passes check (an older shape is dropped). */
export function loadState<T>(check: (value: unknown) => value is T): T | null {
  const saved = vscode().getState();
  return check(saved) ? saved : null;
}

export function saveState<T>(state: T): void {
  vscode().setState(state);
}

/** The JSON the host put in the page, or null. */
export function readInitialState(): unknown {
  const element = document.getElementById(INITIAL_STATE_ELEMENT_ID);
  if (!element?.textContent) return null;
  try {
    return JSON.parse(element.textContent) as unknown;
  } catch {
    return null;
  }
}
