/**
 * The webview's side of the host connection: acquireVsCodeApi() (callable once per page),
 * typed posting, guarded receiving, request ids, persisted state and the initial state
 * that webviewHtml() embedded.
 */
import type { WebviewToHostMessage } from '../../../src/protocol/webviewMessages.js';
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

/** Calls handler for every host message that passes guard; others are dropped with a warning. */
export function onHostMessage<T>(guard: (value: unknown) => value is T, handler: (message: T) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    if (guard(event.data)) handler(event.data);
    else console.warn('conduit webview: ignored a message it does not understand', typeof event.data === 'object' && event.data ? (event.data as { type?: unknown }).type : typeof event.data);
  });
}

let counter = 0;
const pageId = Math.random().toString(36).slice(2, 8);

/** An id that pairs a request with its answer. */
export function requestId(): string {
  counter += 1;
  return `${pageId}-${Date.now().toString(36)}-${counter}`;
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
