// The custom part of the protocol that `lore lsp` speaks (see docs/editors.md).
// This module and everything else under src/lib must not import 'vscode': the
// unit tests run them under plain Node.
import { ProgressType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

import { AskParams, AskResult, CommandArgs, LoreStatus, PartialText } from './wire';

// The wire types are generated from the Go types (go run ./internal/tsgen).
export * from './wire';

/** The argument of the server's lore.ask / lore.explain / lore.plan commands, once checked: uri and range present. */
export type LocationArgument = CommandArgs & Required<Pick<CommandArgs, 'uri' | 'range'>>;

export const AskRequest = new RequestType<AskParams, AskResult, void>('lore/ask');
export const StatusRequest = new RequestType0<LoreStatus, void>('lore/status');
export const AskPartialProgress = new ProgressType<PartialText | string>();

/** The commands `lore lsp` registers through executeCommandProvider. */
export const ServerCommands = {
  ask: 'lore.ask',
  explain: 'lore.explain',
  plan: 'lore.plan',
  status: 'lore.status',
  summarizeChanges: 'lore.summarizeChanges',
  generate: 'lore.generate',
} as const;

/** The extension's own palette commands (distinct ids, so they never clash with the server's). */
export const UiCommands = {
  ask: 'lore.ui.ask',
  plan: 'lore.ui.plan',
  status: 'lore.ui.status',
  explain: 'lore.ui.explain',
  summarizeChanges: 'lore.ui.summarizeChanges',
  generate: 'lore.ui.generate',
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
