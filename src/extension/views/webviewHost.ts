/**
 * What every Conduit webview needs from the host: options that allow only the built
 * assets, and HTML with a strict CSP whose script nonce is fresh random bytes.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { channelServer, type ChannelHandlers } from '../../protocol/channel';
import {
  HOST_WIRE, WEBVIEW_REQUEST_CHECKS, type HostMessageFor, type HostToWebviewMessage, type InitialStateFor, type WebviewName, type WebviewRequests,
} from '../../protocol/webviewMessages';
import { webviewHtml } from './webviewHtml';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
}

/**
 * Posts to a webview of kind `view` only what that view understands (webviewMessages.ts
 * HostMessageFor): every message the host sends goes through here, typed.
 */
export function postToWebview<V extends WebviewName>(webview: vscode.Webview, _view: V, message: HostMessageFor[V]): Thenable<boolean> {
  return webview.postMessage(message);
}

export function renderWebview<V extends WebviewName>(webview: vscode.Webview, extensionUri: vscode.Uri, name: V, title: string, initialState: InitialStateFor[V]): void {
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  webview.html = webviewHtml({
    scriptUri: asset(`${name}.js`),
    styleUri: asset(`${name}.css`),
    nonce: randomBytes(18).toString('base64'),
    cspSource: webview.cspSource,
    title,
    initialState,
  });
}

/**
 * Listens to a webview of kind `view`: its requests (the view's part of WebviewRequests) are
 * answered by `handlers` through the typed channel over the webview wire, their parameters
 * checked against the protocol's schemas first (a webview is not trusted: a malformed or
 * another view's request is answered with requestFailed, its handler not called); every
 * other message that passes `guard` goes to onNotice, others are dropped.
 */
export function serveWebview<V extends WebviewName, R extends keyof WebviewRequests, N>(
  webview: vscode.Webview,
  _view: V,
  handlers: ChannelHandlers<Pick<WebviewRequests, R>>,
  guard: (message: unknown) => message is N,
  onNotice: (message: N) => unknown,
): vscode.Disposable {
  const serve = channelServer<Pick<WebviewRequests, R>, HostToWebviewMessage>({
    send: (message) => void webview.postMessage(message),
    wire: HOST_WIRE,
    handlers,
    validate: WEBVIEW_REQUEST_CHECKS,
  });
  return webview.onDidReceiveMessage((message: unknown) => {
    if (!serve(message) && guard(message)) void onNotice(message);
  });
}
