// What the extension host's webview page (src/extension/views/webviewHtml.ts) and the
// webview scripts that read it (webview-ui/src/shared/vscode.ts) agree on.

/** The id of the element holding the initial state. */
export const INITIAL_STATE_ELEMENT_ID = 'conduit-initial-state';
