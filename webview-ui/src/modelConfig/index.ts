// The model configuration webview: one project's or one agent's model settings and budget,
// and for a project the routing rules editor. It talks to the host only through the messages of
// src/protocol/webviewMessages.ts: init in, save out, saved/saveFailed back.
import '../shared/boot.js';
// The @vscode-elements components this view uses (each import defines its custom element).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '../shared/base.css';
import './style.css';
import type { BudgetPolicy } from '../../../src/protocol/budgets.js';
import type { ProjectModelConfig } from '../../../src/protocol/modelConfig.js';
import {
  isModelConfigHostMessage, isModelConfigInit, type ModelConfigHostMessage, type ModelConfigInit,
  type AnswerTo, type ModelConfigPersistedTarget, type ModelConfigRequests, type ModelOption,
} from '../../../src/protocol/webviewMessages.js';
import { focusKeyOf, h, restoreFocus, setChildren, setText } from '../shared/dom.js';
import { formatThreshold } from '../shared/format.js';
import { formatSpendOfBudget, formatUsd, plural } from '../../../src/protocol/format.js';
import { modelConfigExtrasOf } from '../../../src/protocol/webviewMessages.js';
import type { PeriodSpend } from '../../../src/protocol/webviewMessages.js';
import { connectHost, loadState, post, readInitialState, saveState } from '../shared/vscode.js';
import { ChannelSupersededError } from '../../../src/protocol/channel.js';
import {
  INHERIT, MAX_FALLBACKS, OFF, agentDraftFrom, agentSelectionFrom, effectiveRules, modelDescription, modelDisplayName, modelLabel, preferredModel,
  previewLines, projectConfigFrom, projectDraftFrom, validateAgentDraft, validateProjectDraft,
  type AgentDraft, type FieldErrors, type ProjectDraft, type RuleModelKey,
} from './draft.js';
import {
  budgetChanged, budgetDraftFrom, budgetFieldOf, budgetPolicyFrom, isBudgetDraft, spendLine, storedBudgetOf,
  validateBudgetDraft, type BudgetDraft, type BudgetField, type BudgetMessages,
} from './budgetDraft.js';

type VscodeCheckbox = HTMLElementTagNameMap['vscode-checkbox'];
type VscodeSelect = HTMLElementTagNameMap['vscode-single-select'];
type VscodeTextfield = HTMLElementTagNameMap['vscode-textfield'];
type VscodeButton = HTMLElementTagNameMap['vscode-button'];

const ROUTING_DESCRIPTION = 'Use Conduit to automatically select the best model based on context';
const DEFAULTS_DESCRIPTION = 'Inherit model settings from the project configuration';

interface PersistedState extends ModelConfigPersistedTarget {
  v: 1;
  init: ModelConfigInit | null;
  /** The unsaved form, and the stored configuration it was made from (as JSON). */
  draft: ProjectDraft | AgentDraft | null;
  budgetDraft?: BudgetDraft | null;
  draftBase: string | null;
}

function isPersistedState(v: unknown): v is PersistedState {
  return typeof v === 'object' && v !== null && (v as { v?: unknown }).v === 1;
}

// ---------------------------------------------------------------------------------------
// State

let init: ModelConfigInit | null = null;
let projectDraft: ProjectDraft | null = null;
let agentDraft: AgentDraft | null = null;
let budgetDraft: BudgetDraft | null = null;
let errors: FieldErrors = {};
/** Notes that do not block a save (a limit without a budget amount does nothing). */
let hints: BudgetMessages = {};
/** Fields the person has touched: their errors show while typing; all show on save. */
const touched = new Set<string>();
let showAllErrors = false;
/** The host: the save is the one request; init comes on its own. */
const host = connectHost<ModelConfigRequests, ModelConfigHostMessage>(isModelConfigHostMessage, onHost);
const saving = () => host.waitingFor('save');
/** What the save under way sent (shown as stored when the host's answer says nothing). */
let sentSave: ModelConfigRequests['save']['params'] | null = null;
let status: { kind: 'none' | 'saved' | 'failed' | 'invalid'; text: string } = { kind: 'none', text: '' };
/** Whether the host's init has come since the page loaded (what the person edits from then on is this page's). */
let shownSinceLoad = false;

const app = document.getElementById('app')!;

function baseKey(i: ModelConfigInit): string {
  return JSON.stringify(i.target.kind === 'project'
    ? { kind: 'project', key: i.target.project.workspaceKey, config: i.target.project.modelConfig, budget: storedBudget(i) }
    : { kind: 'agent', key: i.target.project.workspaceKey, agent: i.target.agent.id, use: i.target.agent.useProjectModel, model: i.target.agent.customModelId, budget: storedBudget(i) });
}

/** The budget policy stored for the project or agent the view shows. */
function storedBudget(i: ModelConfigInit): BudgetPolicy {
  return storedBudgetOf(i.target.kind === 'project' ? i.target.project : i.target.agent);
}

function persistedTarget(i: ModelConfigInit | null): PersistedState['target'] {
  if (!i) return null;
  return i.target.kind === 'project'
    ? { kind: 'project', projectKey: i.target.project.workspaceKey }
    : { kind: 'agent', projectKey: i.target.project.workspaceKey, agentId: i.target.agent.id };
}

function persist(): void {
  saveState<PersistedState>({
    v: 1,
    target: persistedTarget(init),
    init,
    draft: projectDraft ?? agentDraft,
    budgetDraft,
    draftBase: init ? baseKey(init) : null,
  });
}

/** Shows this project or agent; keeps an unsaved draft of the same one if its stored configuration did not change. */
function applyInit(next: ModelConfigInit, saved: PersistedState | null): void {
  init = next;
  projectDraft = null;
  agentDraft = null;
  const sameBase = saved?.draftBase === baseKey(next);
  const reuse = saved?.draft && sameBase ? saved.draft : null;
  if (next.target.kind === 'project') {
    projectDraft = reuse && 'enabled' in reuse ? reuse : projectDraftFrom(next.target.project.modelConfig);
  } else {
    agentDraft = reuse && 'useProjectModel' in reuse ? reuse : agentDraftFrom(next.target.agent, preferredModel(next.models));
  }
  budgetDraft = sameBase && isBudgetDraft(saved?.budgetDraft) ? saved!.budgetDraft! : budgetDraftFrom(storedBudget(next));
  errors = {};
  touched.clear();
  showAllErrors = false;
  host.abandon('save');
  status = { kind: 'none', text: '' };
  validate();
  render();
  persist();
}

/**
 * The host's init again for the project or agent on screen: it changed elsewhere (Set Budget,
 * another panel), or its spend did. What is stored and spent is replaced; unsaved edits and a
 * save under way stay (the person's edits win on their save). Another target: shown afresh.
 */
function refreshInit(next: ModelConfigInit): void {
  if (!init || JSON.stringify(persistedTarget(init)) !== JSON.stringify(persistedTarget(next))) {
    applyInit(next, loadState(isPersistedState));
    return;
  }
  const storedChanged = baseKey(init) !== baseKey(next);
  const choicesChanged = JSON.stringify([init.models, init.inheritedRules, modelConfigExtrasOf(init).pluginsDir]) !== JSON.stringify([next.models, next.inheritedRules, modelConfigExtrasOf(next).pluginsDir]);
  const keepEdits = isDirty() || saving();
  init = next;
  if (storedChanged && !keepEdits) {
    if (next.target.kind === 'project') projectDraft = projectDraftFrom(next.target.project.modelConfig);
    else agentDraft = agentDraftFrom(next.target.agent, preferredModel(next.models));
    budgetDraft = budgetDraftFrom(storedBudget(next));
    touched.clear();
  }
  validate();
  // A new stored configuration or model list rebuilds the form (focus is kept); new spend only updates it.
  if (storedChanged || choicesChanged) render();
  else update();
  persist();
}

function validate(): void {
  // In the order of the form: the model settings, then the budget.
  errors = projectDraft ? validateProjectDraft(projectDraft) : agentDraft ? validateAgentDraft(agentDraft) : {};
  const budget = budgetDraft ? validateBudgetDraft(budgetDraft) : { errors: {}, hints: {} };
  errors = { ...errors, ...budget.errors };
  hints = budget.hints;
}

function budgetDirty(): boolean {
  return !!init && !!budgetDraft && budgetChanged(budgetDraft, storedBudget(init));
}

function storedProjectConfig(): ProjectModelConfig {
  return init!.target.project.modelConfig;
}

function isDirty(): boolean {
  if (!init) return false;
  if (budgetDirty()) return true;
  if (projectDraft) {
    const stored = storedProjectConfig();
    return JSON.stringify(projectConfigFrom(projectDraft, stored)) !== JSON.stringify(projectConfigFrom(projectDraftFrom(stored), stored));
  }
  if (agentDraft && init.target.kind === 'agent') {
    const a = agentSelectionFrom(agentDraft);
    return a.useProjectModel !== init.target.agent.useProjectModel || (!a.useProjectModel && a.customModelId !== init.target.agent.customModelId);
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Rendering

const ui: {
  routing?: VscodeCheckbox;
  routingHint?: HTMLElement;
  useDefaults?: VscodeCheckbox;
  modelSection?: HTMLElement;
  modelSelect?: VscodeSelect;
  preview?: HTMLElement;
  previewList?: HTMLElement;
  rules?: HTMLElement;
  rulesNote?: HTMLElement;
  threshold?: VscodeTextfield;
  ruleSelects: Partial<Record<RuleModelKey, VscodeSelect>>;
  plugins?: VscodeCheckbox;
  fallbackList?: HTMLElement;
  addFallback?: VscodeButton;
  budgetFields: Partial<Record<BudgetField, VscodeTextfield>>;
  softLimitModel?: VscodeSelect;
  spend: { daily?: HTMLElement; monthly?: HTMLElement };
  spendSummary?: HTMLElement;
  save?: VscodeButton;
  status?: HTMLElement;
  fieldErrors: Map<string, HTMLElement>;
  fieldHints: Map<string, HTMLElement>;
} = { ruleSelects: {}, budgetFields: {}, spend: {}, fieldErrors: new Map(), fieldHints: new Map() };

/** A model as the view names it everywhere: "Claude Sonnet 5.5 · claude-sonnet-5-5", the id alone for a model without a name. */
function modelName(id: string): string {
  return modelDisplayName(init?.models.find((m) => m.id === id) ?? { id, name: id });
}

function option(value: string, label: string, selected: boolean, description?: string): HTMLElement {
  const o = h('vscode-option', { attrs: { value, selected, description } }, label);
  return o;
}

/** A select of the models; extra options first (inherit/off/none); an unknown stored value stays selectable. */
function modelSelect(key: string, label: string, value: string, extra: { value: string; label: string }[], onChange: (v: string) => void): VscodeSelect {
  const select = h('vscode-single-select', { attrs: { 'data-focus-key': key, 'data-testid': key } });
  select.label = label;
  const models: ModelOption[] = init?.models ?? [];
  const options: HTMLElement[] = extra.map((e) => option(e.value, e.label, e.value === value));
  for (const m of models) options.push(option(m.id, modelLabel(m), m.id === value, modelDescription(m)));
  if (value && !extra.some((e) => e.value === value) && !models.some((m) => m.id === value)) {
    options.push(option(value, `${value} (not offered by the configured providers)`, true, value));
  }
  select.append(...options);
  select.addEventListener('change', () => onChange(select.value));
  // The list opens below unless the webview has no room there (the component does not flip by itself).
  const place = () => {
    const rect = select.getBoundingClientRect();
    const below = window.innerHeight - rect.bottom;
    const needed = Math.min(options.length, 10) * 22 + 40;
    select.position = below < needed && rect.top > below ? 'above' : 'below';
  };
  select.addEventListener('pointerdown', place, true);
  select.addEventListener('keydown', place, true);
  return select;
}

function toggle(key: string, label: string, checked: boolean, onChange: (v: boolean) => void): VscodeCheckbox {
  const box = h('vscode-checkbox', { attrs: { 'data-focus-key': key, 'data-testid': key } }, label);
  box.toggle = true;
  box.checked = checked;
  box.addEventListener('change', () => onChange(box.checked));
  return box;
}

function fieldError(key: string): HTMLElement {
  const el = h('div', { class: 'field-error', attrs: { 'data-error-for': key, role: 'alert' } });
  ui.fieldErrors.set(key, el);
  return el;
}

function render(): void {
  const focusKey = focusKeyOf(document.activeElement);
  ui.ruleSelects = {};
  ui.budgetFields = {};
  ui.spend = {};
  ui.fieldErrors = new Map();
  ui.fieldHints = new Map();
  app.removeAttribute('aria-busy');
  if (!init) {
    setChildren(app, h('p', { class: 'state-message' }, 'Loading model configuration...'));
    return;
  }
  const t = init.target;
  const header = t.kind === 'project'
    ? [h('h1', null, 'Project Model Configuration'), h('p', { class: 'subtitle', attrs: { 'data-testid': 'subject' } }, t.project.name)]
    : [h('h1', null, 'Agent Model Configuration'),
      h('p', { class: 'subtitle', attrs: { 'data-testid': 'subject' } }, `${t.agent.name} · ${t.agent.personaType} · project ${t.project.name}`)];

  const settings: Node[] = [];
  if (agentDraft) {
    ui.useDefaults = toggle('useProjectDefaults', 'Use Project Defaults', agentDraft.useProjectModel, (v) => {
      agentDraft!.useProjectModel = v;
      if (!v && !agentDraft!.customModelId) agentDraft!.customModelId = preferredModel(init!.models);
      touched.add('agentModel');
      changed();
    });
    settings.push(h('section', { class: 'setting' }, ui.useDefaults, h('p', { class: 'description' }, DEFAULTS_DESCRIPTION)));
  }

  ui.routing = toggle('routing', 'Enable Intelligent Routing', routingChecked(), (v) => {
    if (projectDraft) projectDraft.enabled = v;
    changed();
  });
  ui.routingHint = h('p', { class: 'description hint', attrs: { 'data-testid': 'routingHint' } });
  settings.push(h('section', { class: 'setting' }, ui.routing, h('p', { class: 'description' }, ROUTING_DESCRIPTION), ui.routingHint));

  const modelValue = projectDraft ? projectDraft.defaultModel : agentDraft!.customModelId;
  ui.modelSelect = modelSelect('defaultModel', 'Default Model', modelValue,
    projectDraft ? [{ value: '', label: 'None: the model Claude Code asks for' }] : [],
    (v) => {
      if (projectDraft) projectDraft.defaultModel = v;
      else agentDraft!.customModelId = v;
      touched.add(projectDraft ? 'defaultModel' : 'agentModel');
      changed();
    });
  ui.modelSection = h('section', { class: 'setting' },
    h('div', { class: 'field-label' }, 'Default Model'),
    ui.modelSelect,
    h('p', { class: 'description' }, projectDraft
      ? 'Answers every request no rule claims, and every request while routing is off.'
      : 'Answers every request of this agent.'),
    fieldError(projectDraft ? 'defaultModel' : 'agentModel'));
  settings.push(ui.modelSection);

  ui.previewList = h('ul', { class: 'preview-list', attrs: { 'data-testid': 'previewList' } });
  ui.preview = h('section', { class: 'preview', attrs: { 'aria-live': 'polite', 'data-testid': 'preview' } },
    h('h2', null, 'Active Routing Rules'), ui.previewList);
  settings.push(ui.preview);

  if (projectDraft) settings.push(renderRulesEditor(projectDraft));
  settings.push(renderBudgetSection(budgetDraft!));

  ui.save = h('vscode-button', { attrs: { 'data-focus-key': 'save', 'data-testid': 'save' } }, 'Save Configuration');
  ui.save.addEventListener('click', onSave);
  ui.status = h('span', { class: 'status', attrs: { role: 'status', 'data-testid': 'status' } });
  const actions = h('div', { class: 'actions' }, ui.save, ui.status);

  setChildren(app, ...header, h('div', { class: 'config' }, ...settings, actions));
  update();
  restoreFocus(app, focusKey);
}

function routingChecked(): boolean {
  if (projectDraft) return projectDraft.enabled;
  const t = init!.target;
  return agentDraft!.useProjectModel && t.project.modelConfig.enabled;
}

function renderRulesEditor(draft: ProjectDraft): HTMLElement {
  const inherited = init!.inheritedRules;
  ui.threshold = h('vscode-textfield', { attrs: { 'data-focus-key': 'threshold', 'data-testid': 'threshold', placeholder: `${inherited.longContextThreshold} (gateway default)` } });
  ui.threshold.label = 'Long-context threshold (tokens)';
  ui.threshold.value = draft.threshold;
  ui.threshold.addEventListener('input', () => {
    draft.threshold = ui.threshold!.value;
    touched.add('threshold');
    changed();
  });

  const ruleRow = (key: RuleModelKey, label: string, help: string) => {
    const inheritedModel = inherited[key];
    const select = modelSelect(key, label, draft[key], [
      { value: INHERIT, label: `Gateway default (${inheritedModel ? modelName(inheritedModel) : 'off'})` },
      { value: OFF, label: 'Off: this rule never applies' },
    ], (v) => {
      draft[key] = v;
      changed();
    });
    ui.ruleSelects[key] = select;
    return h('div', { class: 'rule-row' }, h('div', { class: 'field-label' }, label), select, h('p', { class: 'description' }, help));
  };

  ui.plugins = toggle('plugins', 'Run custom router plugins', draft.pluginsEnabled ?? inherited.pluginsEnabled, (v) => {
    draft.pluginsEnabled = v;
    changed();
  });

  ui.fallbackList = h('ol', { class: 'fallback-list', attrs: { 'data-testid': 'fallbackList' } });
  ui.addFallback = h('vscode-button', { attrs: { secondary: true, 'data-focus-key': 'addFallback', 'data-testid': 'addFallback' } }, 'Add Fallback Model');
  ui.addFallback.addEventListener('click', () => {
    if (draft.fallbackModels.length >= MAX_FALLBACKS) return;
    draft.fallbackModels.push('');
    draft.fallbackOwn = true;
    renderFallbacks(draft, `fallback-${draft.fallbackModels.length - 1}`);
    changed();
  });
  ui.rulesNote = h('p', { class: 'banner info', attrs: { 'data-testid': 'rulesNote' } },
    'Routing is off: every request goes to the default model. These rules apply when routing is on; fallback models apply always.');

  const section = h('section', { class: 'rules', attrs: { 'data-testid': 'rulesEditor' } },
    h('h2', null, 'Routing Rules'),
    ui.rulesNote,
    h('div', { class: 'rule-row' },
      h('div', { class: 'field-label' }, 'Long-context threshold (tokens)'),
      ui.threshold,
      h('p', { class: 'description' }, 'Requests whose estimated prompt is longer go to the long-context model. Empty: the gateway\'s threshold.'),
      fieldError('threshold')),
    ruleRow('longContextModel', 'Long-context model', 'For prompts over the threshold.'),
    ruleRow('backgroundModel', 'Background model', 'For Claude Code\'s background work (its requests for a haiku-class model).'),
    ruleRow('reasoningModel', 'Reasoning model', 'When the person asks for deep thought ("ultrathink", a raised /effort, a large thinking budget).'),
    ruleRow('webSearchModel', 'Web-search model', 'For requests that offer the web search tool.'),
    h('div', { class: 'rule-row' }, ui.plugins, pluginsDescription()),
    h('h3', null, 'Fallback Models'),
    h('p', { class: 'description' }, 'Tried in this order when the chosen model fails before answering (rate limit, overload, server error).'),
    ui.fallbackList,
    fieldError('fallback'),
    h('div', { class: 'fallback-actions' }, ui.addFallback));
  renderFallbacks(draft, null);
  return section;
}

/** Where the gateway loads plugins from: its own home's folder, as it says (not a default path). */
function pluginsDescription(): HTMLElement {
  const dir = modelConfigExtrasOf(init).pluginsDir;
  return dir
    ? h('p', { class: 'description' }, 'Plugins in ', h('code', { class: 'path', attrs: { 'data-testid': 'pluginsDir' } }, dir), ' may pick a model before these rules.')
    : h('p', { class: 'description' }, 'Plugins in the gateway\'s plugins folder (CONDUIT_HOME/plugins) may pick a model before these rules.');
}

function renderFallbacks(draft: ProjectDraft, focus: string | null): void {
  const list = ui.fallbackList!;
  for (const key of [...ui.fieldErrors.keys()]) if (key.startsWith('fallback.')) ui.fieldErrors.delete(key);
  const rows = draft.fallbackModels.map((id, i) => {
    const field = h('vscode-textfield', { attrs: { 'data-focus-key': `fallback-${i}`, 'data-testid': `fallback-${i}`, placeholder: 'model id, e.g. claude-sonnet-5-5' } });
    field.label = `Fallback model ${i + 1}`;
    field.value = id;
    field.addEventListener('input', () => {
      draft.fallbackModels[i] = field.value;
      touched.add(`fallback.${i}`);
      changed();
    });
    const button = (label: string, key: string, enabled: boolean, act: () => string | null) => {
      const b = h('vscode-button', { attrs: { secondary: true, 'data-focus-key': `${key}-${i}`, 'data-testid': `${key}-${i}`, 'aria-label': `${label} fallback model ${i + 1}` } }, label);
      b.disabled = !enabled;
      b.addEventListener('click', () => {
        const next = act();
        draft.fallbackOwn = true;
        touched.forEach((k) => { if (k.startsWith('fallback.')) touched.delete(k); });
        renderFallbacks(draft, next);
        changed();
      });
      return b;
    };
    const move = (to: number) => () => {
      const list2 = draft.fallbackModels;
      [list2[i], list2[to]] = [list2[to], list2[i]];
      return `${to < i ? 'up' : 'down'}-${to}`;
    };
    return h('li', { class: 'fallback-row' },
      h('div', { class: 'fallback-line' },
        field,
        button('Up', 'up', i > 0, move(i - 1)),
        button('Down', 'down', i < draft.fallbackModels.length - 1, move(i + 1)),
        button('Remove', 'remove', true, () => {
          draft.fallbackModels.splice(i, 1);
          const n = draft.fallbackModels.length;
          return n === 0 ? 'addFallback' : `fallback-${Math.min(i, n - 1)}`;
        })),
      fieldError(`fallback.${i}`));
  });
  setChildren(list, ...rows);
  if (ui.addFallback) ui.addFallback.disabled = draft.fallbackModels.length >= MAX_FALLBACKS;
  if (focus) {
    const target = document.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focus)}"]`);
    const usable = target && !(target as HTMLElement & { disabled?: boolean }).disabled ? target : list.querySelector<HTMLElement>(`[data-focus-key^="fallback-"]`) ?? ui.addFallback;
    usable?.focus();
  }
}

function fieldHint(key: string): HTMLElement {
  const el = h('div', { class: 'field-hint', attrs: { 'data-hint-for': key, 'aria-live': 'polite' } });
  ui.fieldHints.set(key, el);
  return el;
}

/** The budget: two amounts with the period's spend beside each, the soft limit and its model, the hard limit. */
function renderBudgetSection(draft: BudgetDraft): HTMLElement {
  const text = (key: Exclude<BudgetField, 'softLimitModel'>, label: string, placeholder: string) => {
    const field = h('vscode-textfield', { attrs: { 'data-focus-key': key, 'data-testid': key, placeholder } });
    field.label = label;
    field.value = draft[key];
    field.addEventListener('input', () => {
      draft[key] = field.value;
      touched.add(key);
      // The soft limit is checked against the hard one: changing either shows where they clash.
      if (key === 'hardLimitPercent' && draft.softLimitPercent.trim()) touched.add('softLimitPercent');
      changed();
    });
    ui.budgetFields[key] = field;
    return field;
  };
  const row = (key: BudgetField, label: string, control: HTMLElement, help: string, extra?: HTMLElement) =>
    h('div', { class: 'rule-row budget-row' },
      h('div', { class: 'field-label' }, label),
      extra ? h('div', { class: 'budget-line' }, control, extra) : control,
      h('p', { class: 'description' }, help),
      fieldHint(key),
      fieldError(key));
  const spend = (period: 'daily' | 'monthly') =>
    (ui.spend[period] = h('span', { class: 'spend muted', attrs: { 'data-testid': `${period}Spend` } }));

  ui.softLimitModel = modelSelect('softLimitModel', 'Cheaper model', draft.softLimitModel,
    [{ value: '', label: 'The cheapest configured model' }],
    (v) => {
      draft.softLimitModel = v;
      touched.add('softLimitModel');
      changed();
    });

  const scope = init!.target.kind === 'project'
    ? 'Limits what this project spends, its agents\' requests included.'
    : 'Limits what this agent spends. The project\'s budget applies too: the stricter limit wins.';
  ui.spendSummary = h('p', { class: 'spend-summary', attrs: { 'data-testid': 'spendSummary', 'aria-live': 'polite' } });
  return h('section', { class: 'budget', attrs: { 'data-testid': 'budgetSection' } },
    h('h2', null, 'Budget'),
    ui.spendSummary,
    h('p', { class: 'description' }, `${scope} Periods are calendar days and months.`),
    row('dailyUsd', 'Daily budget (USD)', text('dailyUsd', 'Daily budget (USD)', 'none'),
      'The most to spend in a calendar day. Empty: no daily budget.', spend('daily')),
    row('monthlyUsd', 'Monthly budget (USD)', text('monthlyUsd', 'Monthly budget (USD)', 'none'),
      'The most to spend in a calendar month. Empty: no monthly budget.', spend('monthly')),
    row('softLimitPercent', 'Soft limit (% of a budget)', text('softLimitPercent', 'Soft limit (% of a budget)', 'off'),
      'From this share of a budget on, requests go to the cheaper model below. Empty: off.'),
    row('softLimitModel', 'Cheaper model', ui.softLimitModel,
      'Where requests go past the soft limit; requests already on a model no more expensive stay where they are.'),
    row('hardLimitPercent', 'Hard limit (% of a budget)', text('hardLimitPercent', 'Hard limit (% of a budget)', 'off'),
      'From this share of a budget on, requests are refused with a message Claude Code shows. Empty: off.'));
}

/** Brings everything that depends on the draft up to date without rebuilding the form. */
function update(): void {
  if (!init) return;
  const t = init.target;
  let routingOn: boolean;
  if (agentDraft && t.kind === 'agent') {
    const useDefaults = agentDraft.useProjectModel;
    ui.routing!.checked = routingChecked();
    ui.routing!.disabled = true;
    setText(ui.routingHint!, useDefaults
      ? `Set by the project: intelligent routing is ${t.project.modelConfig.enabled ? 'on' : 'off'}.`
      : 'This agent uses its own model for every request, so routing rules do not apply.');
    ui.modelSection!.hidden = useDefaults;
    routingOn = useDefaults && t.project.modelConfig.enabled;
  } else {
    ui.routing!.checked = projectDraft!.enabled;
    ui.routing!.disabled = false;
    setText(ui.routingHint!, '');
    routingOn = projectDraft!.enabled;
    ui.rulesNote!.hidden = routingOn;
    ui.threshold!.disabled = !routingOn;
    for (const select of Object.values(ui.ruleSelects)) select!.disabled = !routingOn;
    ui.plugins!.disabled = !routingOn;
  }
  ui.routingHint!.hidden = !ui.routingHint!.textContent;

  ui.preview!.hidden = !routingOn;
  if (routingOn) {
    const rules = agentDraft
      ? effectiveRules(projectDraftFrom(t.project.modelConfig), init.inheritedRules)
      : effectiveRules(projectDraft!, init.inheritedRules);
    setChildren(ui.previewList!, ...previewLines(rules, modelName, formatThreshold).map((line) =>
      h('li', null, h('span', { class: 'condition' }, line.condition), h('span', { class: 'arrow', attrs: { 'aria-hidden': 'true' } }, '→'),
        h('span', { class: 'visually-hidden' }, ' goes to '), h('span', { class: 'model' }, line.model))));
  }

  for (const [key, el] of ui.fieldErrors) {
    const message = errors[key] && (showAllErrors || touched.has(key) || key === 'fallback') ? errors[key] : '';
    setText(el, message);
  }
  if (ui.threshold) ui.threshold.invalid = Boolean(ui.fieldErrors.get('threshold')?.textContent);
  updateBudget();
  ui.fallbackList?.querySelectorAll<VscodeTextfield>('vscode-textfield').forEach((field, i) => {
    field.invalid = Boolean(ui.fieldErrors.get(`fallback.${i}`)?.textContent);
  });

  const busy = saving();
  setText(ui.save!, busy ? 'Saving...' : 'Save Configuration');
  ui.save!.disabled = busy;
  const dirty = isDirty();
  const text = status.kind !== 'none' ? status.text : dirty ? 'Unsaved changes' : '';
  setText(ui.status!, text);
  ui.status!.className = `status ${status.kind === 'failed' || status.kind === 'invalid' ? 'error-text' : 'muted'}`;
}

/** "$1.23 / $5" (+ what had no known price). */
function periodText(p: PeriodSpend): string {
  const unknown = p.unknownCostRequests > 0 ? ` + ${plural(p.unknownCostRequests, 'request')} without a known price` : '';
  return `${p.budgetUsd === null ? formatUsd(p.cost ?? 0) : formatSpendOfBudget(p.cost, p.budgetUsd)}${unknown}`;
}

/** What the project or agent spent today and this month (the store's figures, against its budgets). */
function spendSummaryText(): string {
  const spend = init ? modelConfigExtrasOf(init).spend : undefined;
  if (!spend || !init) return '';
  const who = init.target.kind === 'agent' ? `${init.target.agent.name} spent` : 'This project spent (its agents included)';
  return `${who} ${periodText(spend.today)} today and ${periodText(spend.month)} this month (calendar, ${spend.timeZone}).`;
}

function updateBudget(): void {
  if (ui.spendSummary) {
    setText(ui.spendSummary, spendSummaryText());
    ui.spendSummary.hidden = !ui.spendSummary.textContent;
  }
  if (!budgetDraft || !init) return;
  for (const [key, el] of ui.fieldHints) setText(el, hints[key as BudgetField] ?? '');
  for (const [key, field] of Object.entries(ui.budgetFields)) field!.invalid = Boolean(ui.fieldErrors.get(key)?.textContent);
  // The model matters only with a soft limit; the select is kept (not cleared) while it is off.
  if (ui.softLimitModel) ui.softLimitModel.disabled = budgetDraft.softLimitPercent.trim() === '';
  for (const period of ['daily', 'monthly'] as const) {
    const el = ui.spend[period];
    if (!el) continue;
    const line = spendLine(init.budgetStatuses, period, period === 'daily' ? budgetDraft.dailyUsd : budgetDraft.monthlyUsd);
    setText(el, line ?? '');
    el.hidden = line === null;
  }
}

function changed(): void {
  validate();
  if (status.kind !== 'none' && !saving()) status = { kind: 'none', text: '' };
  update();
  persist();
}

// ---------------------------------------------------------------------------------------
// Saving

function onSave(): void {
  if (!init || saving()) return;
  validate();
  showAllErrors = true;
  if (Object.keys(errors).length) {
    status = { kind: 'invalid', text: 'Fix the errors above before saving.' };
    update();
    const first = Object.keys(errors)[0];
    const focusKey = first === 'agentModel' ? 'defaultModel' : first.startsWith('fallback.') ? `fallback-${first.slice(9)}` : first === 'fallback' ? 'addFallback' : first;
    document.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
    return;
  }
  const t = init.target;
  // The budget goes along only when it changed, so a model-only save leaves it as stored.
  const policy = budgetDirty() ? budgetPolicyFrom(budgetDraft!) : null;
  const budget = policy ? { budget: policy } : {};
  const params: ModelConfigRequests['save']['params'] = t.kind === 'project'
    ? { kind: 'project', projectKey: t.project.workspaceKey, config: projectConfigFrom(projectDraft!, t.project.modelConfig), ...budget }
    : { kind: 'agent', projectKey: t.project.workspaceKey, agentId: t.agent.id, config: agentSelectionFrom(agentDraft!), ...budget };
  sentSave = params;
  const answer = host.request('save', params);
  status = { kind: 'none', text: '' };
  update();
  answer.then(onSaveAnswer, (err: Error) => {
    if (err instanceof ChannelSupersededError) return; // another target was shown meanwhile
    onSaveAnswer({ type: 'saveFailed', message: err.message, field: null });
  });
}

const FIELD_SUFFIXES: [string, string][] = [
  ['longContextThreshold', 'threshold'], ['fallbackModels', 'fallback'], ['defaultModel', 'defaultModel'], ['customModelId', 'agentModel'],
];

/** "modelConfig.rules.fallbackModels[1]" (a model the gateway refused): that fallback's own field. */
function fallbackFieldOf(path: string | null | undefined): string | undefined {
  const index = path ? /fallbackModels\[(\d+)\]$/.exec(path)?.[1] : undefined;
  return index === undefined ? undefined : `fallback.${index}`;
}

function onHost(message: ModelConfigHostMessage): void {
  if (message.type !== 'init') return; // answers come through the channel
  // The first init since the page loaded answers ready: a draft restored from a reload is kept
  // only if nothing was stored meanwhile (applyInit). Later ones refresh what is on screen.
  if (shownSinceLoad) refreshInit(message);
  else applyInit(message, loadState(isPersistedState));
  shownSinceLoad = true;
}

function onSaveAnswer(message: AnswerTo<'save'>): void {
  switch (message.type) {
    case 'saved': {
      if (!sentSave || !init) return;
      const sent = sentSave;
      const t = init.target;
      // What the host says was stored; what was sent when it says nothing.
      if (t.kind === 'project' && sent.kind === 'project') {
        const project = { ...(message.project ?? { ...t.project, modelConfig: sent.config }) };
        if (!project.budget && sent.budget) project.budget = sent.budget;
        init = { ...init, target: { kind: 'project', project } };
        projectDraft = projectDraftFrom(project.modelConfig);
      } else if (t.kind === 'agent' && sent.kind === 'agent') {
        const agent = { ...(message.agent ?? { ...t.agent, ...sent.config }) };
        if (!agent.budget && sent.budget) agent.budget = sent.budget;
        init = { ...init, target: { ...t, agent } };
        agentDraft = agentDraftFrom(agent, agentDraft?.customModelId || preferredModel(init.models));
      }
      if (message.budgetStatuses) init = { ...init, budgetStatuses: message.budgetStatuses }; // a budget set just now gets its spend line
      budgetDraft = budgetDraftFrom(storedBudget(init));
      touched.clear();
      validate(); // the hints of what was stored (errors show only once touched)
      showAllErrors = false;
      status = { kind: 'saved', text: 'Configuration saved.' };
      render();
      persist();
      return;
    }
    case 'saveFailed': {
      const field = budgetFieldOf(message.field) ?? fallbackFieldOf(message.field)
        ?? (message.field ? FIELD_SUFFIXES.find(([suffix]) => message.field!.includes(suffix))?.[1] : undefined);
      if (field) {
        // The gateway's messages start with the path ("budget.dailyUsd: ..."): inline, the field says where.
        const prefix = `${message.field}: `;
        errors[field] = message.message.startsWith(prefix) ? message.message.slice(prefix.length) : message.message;
        touched.add(field);
      }
      status = { kind: 'failed', text: `Could not save: ${message.message}` };
      update();
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Start

{
  const saved = loadState(isPersistedState);
  const initial = readInitialState();
  if (isModelConfigInit(initial)) applyInit(initial, saved);
  else if (saved?.init && isModelConfigInit(saved.init)) applyInit(saved.init, saved);
  else render();
  post({ type: 'ready', view: 'modelConfig' });
}
