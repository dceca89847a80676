/**
 * What every Conduit webview needs from the host: options that allow only the built
 * assets, and HTML with a strict CSP whose script nonce is fresh random bytes.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { HostMessageFor, WebviewName } from '../../protocol/webviewMessages';
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

export function renderWebview(webview: vscode.Webview, extensionUri: vscode.Uri, name: WebviewName, title: string, initialState: unknown): void {
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
