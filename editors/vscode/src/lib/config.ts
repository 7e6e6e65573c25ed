// The extension's settings (section "lore"), normalised, and what the server
// gets from them: the command line, the environment, initializationOptions and
// the answers to workspace/configuration.
import * as os from 'os';
import * as path from 'path';

export const SECTION = 'lore';

export type ShowAnswers = 'panel' | 'document' | 'message' | 'none';
const SHOW_ANSWERS: readonly ShowAnswers[] = ['panel', 'document', 'message', 'none'];

export interface LoreSettings {
  /** The lore binary. */
  path: string;
  /** GGUF model file; empty: lore's own settings decide. */
  model: string;
  /**
   * Start the server (and so the daemon, which loads the model) when a
   * window with a folder opens; otherwise at the first Lore command.
   */
  autoStart: boolean;
  /** Most tokens an answer generates; 0: the server's default. */
  maxTokens: number;
  /** Model-backed hovers (cost a model call each). */
  hover: boolean;
  /**
   * Where the answers of the server's commands (code actions) go: "panel",
   * the extension's answer panel; or the server's own ways: "document" (a
   * Markdown file it writes and opens), "message" (a notification), "none".
   */
  showAnswers: ShowAnswers;
  /** The planning session Lore: Plan continues. */
  planSession: string;
  /** Seconds between status polls. */
  statusInterval: number;
}

export const DEFAULTS: LoreSettings = {
  path: 'lore',
  model: '',
  autoStart: false,
  maxTokens: 0,
  hover: false,
  showAnswers: 'panel',
  planSession: 'plan',
  statusInterval: 5,
};

/** Reads one key of the "lore" section; vscode's WorkspaceConfiguration.get fits. */
export type SettingGetter = (key: string) => unknown;

function str(v: unknown, d: string): string {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : d;
}

function int(v: unknown, d: number, min: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.max(min, Math.floor(n)) : d;
}

function bool(v: unknown, d: boolean): boolean {
  return typeof v === 'boolean' ? v : d;
}

function showAnswers(v: unknown): ShowAnswers {
  if (typeof v === 'boolean') {
    return v ? 'panel' : 'none';
  }
  return SHOW_ANSWERS.find((x) => x === v) ?? DEFAULTS.showAnswers;
}

/** The settings with wrong types and blanks replaced by the defaults. */
export function readSettings(get: SettingGetter): LoreSettings {
  return {
    path: str(get('path'), DEFAULTS.path),
    model: str(get('model'), DEFAULTS.model),
    autoStart: bool(get('autoStart'), DEFAULTS.autoStart),
    maxTokens: int(get('maxTokens'), DEFAULTS.maxTokens, 0),
    hover: bool(get('hover'), DEFAULTS.hover),
    showAnswers: showAnswers(get('showAnswers')),
    planSession: str(get('planSession'), DEFAULTS.planSession),
    statusInterval: int(get('statusInterval'), DEFAULTS.statusInterval, 1),
  };
}

/** `~/x` and `~` → the home folder. */
export function expandHome(p: string, home: string = os.homedir()): string {
  if (p === '~') {
    return home;
  }
  if (p.startsWith('~/') || p.startsWith('~\\')) {
    return path.join(home, p.slice(2));
  }
  return p;
}

export interface ServerLaunch {
  command: string;
  args: string[];
  /** Variables to add to the extension host's environment. */
  env: Record<string, string>;
}

/** `lore lsp`, with LORE_MODEL when a model is set. */
export function serverLaunch(s: LoreSettings, home?: string): ServerLaunch {
  const env: Record<string, string> = {};
  if (s.model) {
    env.LORE_MODEL = expandHome(s.model, home);
  }
  return { command: expandHome(s.path, home), args: ['lsp'], env };
}

/**
 * What the server gets as initializationOptions, in workspace/configuration
 * answers and in didChangeConfiguration (as {lore: …}): lore lsp's settings
 * (hover, maxTokens, showAnswers "document" | "message" | "none"). maxTokens
 * is left out when 0 (the server's default); "panel" is "none" for the
 * server, since the extension shows those answers itself.
 */
export interface ServerOptions {
  hover: boolean;
  maxTokens?: number;
  showAnswers: 'document' | 'message' | 'none';
  /**
   * "answer" when the panel shows the answers: the extension runs the
   * server's answer commands without blocking VS Code and takes the
   * answer from the command's reply. Otherwise "started" (the server's
   * default: the reply comes at once, the server shows the answer); sent
   * either way, so that a settings change switches it back.
   */
  commandReply: 'answer' | 'started';
}

export function initializationOptions(s: LoreSettings): ServerOptions {
  const o: ServerOptions =
    s.showAnswers === 'panel'
      ? { hover: s.hover, showAnswers: 'none', commandReply: 'answer' }
      : { hover: s.hover, showAnswers: s.showAnswers, commandReply: 'started' };
  if (s.maxTokens > 0) {
    o.maxTokens = s.maxTokens;
  }
  return o;
}

/** Whether the extension shows the answers of the server's commands in its panel. */
export function clientShowsAnswers(s: LoreSettings): boolean {
  return s.showAnswers === 'panel';
}

/**
 * The answer to one workspace/configuration item: the whole "lore" section
 * (the server options, as in initializationOptions), or one of its keys
 * ("lore.hover"); handled: false for another section (left to VS Code).
 */
export function configurationItem(section: string | undefined, s: LoreSettings): { handled: boolean; value: unknown } {
  if (section === SECTION) {
    return { handled: true, value: initializationOptions(s) };
  }
  if (section !== undefined && section.startsWith(SECTION + '.')) {
    const key = section.slice(SECTION.length + 1);
    const all: Record<string, unknown> = {
      path: s.path,
      model: s.model,
      planSession: s.planSession,
      maxTokens: s.maxTokens,
      ...initializationOptions(s),
    };
    return { handled: true, value: key in all ? all[key] : null };
  }
  return { handled: false, value: undefined };
}

/**
 * Settings whose change needs a new server process: the binary, its
 * environment, and hover (the server registers its hover provider at
 * initialize). The others are sent to the running server.
 */
export const RESTART_KEYS = ['path', 'model', 'hover'] as const;

/**
 * Whether activation (or a folder added to the window) starts the server:
 * only with lore.autoStart and a folder open. Starting the server starts the
 * repository's daemon, which loads the model: without autoStart that waits
 * for the first Lore command.
 */
export function startsWithWindow(s: Pick<LoreSettings, 'autoStart'>, folders: number): boolean {
  return s.autoStart && folders > 0;
}
