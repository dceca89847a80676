/**
 * The HTML page of a webview, built by the extension host (pure string building: no DOM,
 * no Node, no 'vscode'). The Content-Security-Policy allows the bundle's script by nonce,
 * its stylesheet from the webview's resource origin, nothing else; the initial state
 * travels as JSON in a non-executed <script type="application/json"> element that the page
 * reads with readInitialState() (webview-ui/src/shared/vscode.ts).
 */
import { INITIAL_STATE_ELEMENT_ID } from '../../protocol/webviewPage';

export interface WebviewHtmlOptions {
  /** webview.asWebviewUri(dist/webview/<name>.js).toString() */
  scriptUri: string;
  /** webview.asWebviewUri(dist/webview/<name>.css).toString(), when the bundle has styles. */
  styleUri?: string;
  /** Fresh for every page: 16+ random bytes, base64 or hex. */
  nonce: string;
  /** webview.cspSource */
  cspSource: string;
  title: string;
  /** Any JSON value; undefined is sent as null. */
  initialState: unknown;
}

const NONCE = /^[A-Za-z0-9+/_-]{16,128}={0,2}$/;
// A CSP source list: scheme/host expressions and 'self' separated by spaces (VS Code's
// webview.cspSource is "'self' https://*.vscode-cdn.net" in the browser), nothing that ends
// the directive and no other keyword.
const CSP_SOURCE = /^(?=.{1,500}$)(?:'self'|[A-Za-z0-9*:/.\-_+[\]%@]+)(?: +(?:'self'|[A-Za-z0-9*:/.\-_+[\]%@]+))*$/;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that cannot end its <script> element or open a comment inside it. */
export function jsonForScript(value: unknown): string {
  return (JSON.stringify(value ?? null) ?? 'null')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

export function webviewHtml(options: WebviewHtmlOptions): string {
  const { scriptUri, styleUri, nonce, cspSource, title, initialState } = options;
  if (!NONCE.test(nonce)) throw new Error('webviewHtml: the nonce must be 16 to 128 base64 or hex characters');
  if (!CSP_SOURCE.test(cspSource)) throw new Error(`webviewHtml: unexpected characters in cspSource ${JSON.stringify(cspSource)}`);
  const a = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(contentSecurityPolicy(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${a(title)}</title>
${styleUri ? `<link rel="stylesheet" href="${a(styleUri)}" nonce="${a(nonce)}">\n` : ''}<script type="application/json" id="${INITIAL_STATE_ELEMENT_ID}" nonce="${a(nonce)}">${jsonForScript(initialState)}</script>
</head>
<body>
<main id="app" aria-busy="true"></main>
<script type="module" src="${a(scriptUri)}" nonce="${a(nonce)}"></script>
</body>
</html>
`;
}
