// VS Code's High Contrast (dark) colours of the variables the analytics panel reads, applied
// as VS Code applies a theme (variables and class on <body>); Dark+ and Light+ come from the
// harness (test/support/webviewPage.ts THEMES).
import { THEMES } from '../support/webviewPage';
import type { WebviewPage } from '../support/webviewPage';

export type PanelTheme = 'dark' | 'light' | 'high-contrast';

export const HIGH_CONTRAST: { className: string; vars: Record<string, string> } = {
  className: 'vscode-high-contrast',
  vars: {
    ...THEMES.dark.vars,
    '--vscode-foreground': '#ffffff', '--vscode-descriptionForeground': '#ffffffb3', '--vscode-errorForeground': '#f48771',
    '--vscode-focusBorder': '#f38518', '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-editor-background': '#000000', '--vscode-editor-foreground': '#ffffff', '--vscode-sideBar-background': '#000000',
    '--vscode-widget-border': '#6fc3df', '--vscode-panel-border': '#6fc3df',
    '--vscode-button-background': '#000000', '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#6fc3df',
    '--vscode-button-hoverBackground': '#000000', '--vscode-button-secondaryBackground': '#000000', '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-button-secondaryHoverBackground': '#000000',
    '--vscode-input-background': '#000000', '--vscode-input-foreground': '#ffffff', '--vscode-input-border': '#6fc3df',
    '--vscode-dropdown-background': '#000000', '--vscode-dropdown-foreground': '#ffffff', '--vscode-dropdown-border': '#6fc3df',
    '--vscode-textLink-foreground': '#21a6ff', '--vscode-textLink-activeForeground': '#21a6ff',
    '--vscode-badge-background': '#000000', '--vscode-badge-foreground': '#ffffff',
    '--vscode-charts-foreground': '#ffffff', '--vscode-charts-lines': '#ffffff80', '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-blue': '#3794ff', '--vscode-charts-yellow': '#cca700', '--vscode-charts-orange': '#d18616',
    '--vscode-charts-green': '#89d185', '--vscode-charts-purple': '#b180d7',
    '--vscode-inputValidation-infoBackground': '#000000', '--vscode-inputValidation-infoBorder': '#6fc3df',
    '--vscode-inputValidation-warningBackground': '#000000', '--vscode-inputValidation-warningBorder': '#cca700',
  },
};

/** Switches the page to a theme the way VS Code does, then waits for the charts to take its colours. */
export async function applyTheme(v: WebviewPage, theme: { className: string; vars: Record<string, string> }): Promise<void> {
  await v.page.evaluate((t) => {
    const body = document.body;
    body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
    for (const [k, val] of Object.entries(t.vars)) body.style.setProperty(k, val);
    body.classList.add(t.className);
    body.setAttribute('data-vscode-theme-kind', t.className);
  }, theme);
}
