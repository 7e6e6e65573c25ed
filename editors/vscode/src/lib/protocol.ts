// The custom part of the protocol that `lore lsp` speaks (see docs/editors.md).
// This module and everything else under src/lib must not import 'vscode': the
// unit tests run them under plain Node.
import { ProgressType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

/** A zero-based LSP position (UTF-16 code units, like VS Code's). */
export interface Position {
  line: number;
  character: number;
}

/** A zero-based LSP range; start is never after end. */
export interface Range {
  start: Position;
  end: Position;
}

export type ProgressToken = string | number;

/** Params of the `lore/ask` request. */
export interface AskParams {
  question: string;
  textDocument?: { uri: string };
  range?: Range;
  session?: string;
  maxTokens?: number;
  partialResultToken?: ProgressToken;
  workDoneToken?: ProgressToken;
}

/** A file that is in the pack only as signatures or as a map entry. */
export interface Omitted {
  path: string;
  reason: string;
}

/** Result of the `lore/ask` request. */
export interface AskResult {
  text: string;
  packVersion?: number | string;
  ttftMs?: number;
  elapsedMs?: number;
  queuedMs?: number;
  promptTokens?: number;
  cachedTokens?: number;
  prefilledTokens?: number;
  generatedTokens?: number;
  stopReason?: string;
  session?: string;
  sessionTurn?: number;
  sessionReplayed?: number | boolean;
  retrieved?: string[];
  omitted?: Omitted[] | number;
  /** The question asked (the server's default one for a command without a question). */
  question?: string;
  /** The Markdown file the server wrote the answer to (showAnswers "document"). */
  documentUri?: string;
}

/** The value of a `$/progress` notification for a `lore/ask` partialResultToken. */
export interface AskPartial {
  text: string;
}

export type DaemonState = 'loading' | 'prefilling' | 'ready' | 'stopping' | 'failed';

/** Result of `lore/status`: the daemon's status JSON, passed through (snake_case). */
export interface LoreStatus {
  repo?: string;
  pid?: number;
  state?: DaemonState | string;
  error?: string;
  model?: string;
  model_path?: string;
  context_size?: number;
  pack_tokens?: number;
  pack_version?: number | string;
  kv_tokens?: number;
  prefilled_tokens?: number;
  restored_tokens?: number;
  segments?: number;
  files?: number;
  skipped?: number;
  omitted?: Omitted[] | null;
  progress?: { done: number; total: number } | null;
  snapshot_bytes?: number;
  uptime_seconds?: number;
  prefill_tokens_per_sec?: number;
  decode_tokens_per_sec?: number;
  active_questions?: number;
  memory_bytes?: number;
  stale_tokens?: number;
  overlay_tokens?: number;
  queued_questions?: number;
  buffers?: number;
  sessions?: number | unknown[];
}

/** The argument of the server's lore.ask / lore.explain / lore.plan commands. */
export interface LocationArgument {
  uri: string;
  range: Range;
  question?: string;
}

export const AskRequest = new RequestType<AskParams, AskResult, void>('lore/ask');
export const StatusRequest = new RequestType0<LoreStatus, void>('lore/status');
export const AskPartialProgress = new ProgressType<AskPartial | string>();

/** The commands `lore lsp` registers through executeCommandProvider. */
export const ServerCommands = {
  ask: 'lore.ask',
  explain: 'lore.explain',
  plan: 'lore.plan',
  status: 'lore.status',
  summarizeChanges: 'lore.summarizeChanges',
} as const;

/** The extension's own palette commands (distinct ids, so they never clash with the server's). */
export const UiCommands = {
  ask: 'lore.ui.ask',
  plan: 'lore.ui.plan',
  status: 'lore.ui.status',
  explain: 'lore.ui.explain',
  summarizeChanges: 'lore.ui.summarizeChanges',
  restart: 'lore.ui.restart',
  stop: 'lore.ui.stop',
} as const;

/** JSON-RPC / LSP error codes the client tells apart. */
export const ErrorCodes = {
  RequestCancelled: -32800,
  ServerCancelled: -32802,
  MethodNotFound: -32601,
  ConnectionInactive: -32096,
  PendingResponseRejected: -32097,
} as const;
