// Building `lore/ask` params from an editor location, and running one streamed
// question over any connection that can send requests and receive progress
// (vscode-languageclient's LanguageClient, or a plain JSON-RPC connection in
// the tests).
import { randomBytes } from 'crypto';
import { ProgressType, WorkDoneProgress } from 'vscode-languageserver-protocol';
import { chunkText } from './stream';
import {
  AskParams,
  AskPartialProgress,
  AskRequest,
  AskResult,
  ErrorCodes,
  LocationArgument,
  Position,
  ProgressToken,
  Range,
} from './protocol';

export const EXPLAIN_QUESTION =
  'Explain the selected code: what it does, how it fits into the rest of the repository, and anything surprising about it.';

function toPosition(p: Position): Position {
  const n = (x: number) => (Number.isFinite(x) ? Math.max(0, Math.floor(x)) : 0);
  return { line: n(p.line), character: n(p.character) };
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/**
 * A plain zero-based LSP range from an editor selection or cursor (anything
 * with start and end positions, such as vscode.Selection); start ≤ end. An
 * empty selection is the cursor: an empty range.
 */
export function toRange(sel: { start: Position; end: Position }): Range {
  const a = toPosition(sel.start);
  const b = toPosition(sel.end);
  return before(b, a) ? { start: b, end: a } : { start: a, end: b };
}

export interface AskInput {
  question: string;
  /** The document's URI string (file:///…), when the question is about a place. */
  uri?: string;
  /** The selection or cursor in that document. */
  selection?: { start: Position; end: Position };
  session?: string;
  maxTokens?: number;
  partialResultToken?: ProgressToken;
  workDoneToken?: ProgressToken;
}

/** The `lore/ask` params; throws when the question is empty. */
export function buildAskParams(input: AskInput): AskParams {
  const question = (input.question ?? '').trim();
  if (question === '') {
    throw new Error('The question is empty.');
  }
  const p: AskParams = { question };
  if (input.uri) {
    p.textDocument = { uri: input.uri };
    if (input.selection) {
      p.range = toRange(input.selection);
    }
  }
  const session = input.session?.trim();
  if (session) {
    p.session = session;
  }
  if (input.maxTokens !== undefined && Number.isFinite(input.maxTokens) && input.maxTokens > 0) {
    p.maxTokens = Math.floor(input.maxTokens);
  }
  if (input.partialResultToken !== undefined) {
    p.partialResultToken = input.partialResultToken;
  }
  if (input.workDoneToken !== undefined) {
    p.workDoneToken = input.workDoneToken;
  }
  return p;
}

/** "dir/file.go:12" for a cursor or a one-line selection, "dir/file.go:12-20" for more lines (1-based). */
export function formatLocation(path: string, range?: Range): string {
  if (!range) {
    return path;
  }
  const r = toRange(range);
  const first = r.start.line + 1;
  // A selection that ends at column 0 of a line does not include that line.
  let last = r.end.line + 1;
  if (r.end.line > r.start.line && r.end.character === 0) {
    last--;
  }
  return last > first ? `${path}:${first}-${last}` : `${path}:${first}`;
}

function isPosition(v: unknown): v is Position {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as Position).line === 'number' &&
    typeof (v as Position).character === 'number'
  );
}

/** The {uri, range, question?} argument of the server's lore.ask / lore.explain / lore.plan commands. */
export function parseLocationArgument(arg: unknown): LocationArgument | undefined {
  if (arg === null || typeof arg !== 'object') {
    return undefined;
  }
  const a = arg as { uri?: unknown; range?: { start?: unknown; end?: unknown }; question?: unknown };
  if (typeof a.uri !== 'string' || !a.range || !isPosition(a.range.start) || !isPosition(a.range.end)) {
    return undefined;
  }
  const out: LocationArgument = { uri: a.uri, range: toRange({ start: a.range.start, end: a.range.end }) };
  if (typeof a.question === 'string' && a.question.trim() !== '') {
    out.question = a.question;
  }
  return out;
}

let tokenCounter = 0;

/** A progress token unique within this process (and very likely across). */
export function newProgressToken(prefix: string): string {
  tokenCounter++;
  return `${prefix}-${Date.now().toString(36)}-${tokenCounter}-${randomBytes(4).toString('hex')}`;
}

// ---------------------------------------------------------------------------
// Running a question.

export interface Disposable {
  dispose(): unknown;
}

export interface CancellationToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): Disposable;
}

/**
 * What runAsk needs from a connection. LanguageClient and vscode-jsonrpc's
 * MessageConnection both have these methods.
 */
export interface AskTransport {
  sendRequest(type: typeof AskRequest, params: AskParams, token?: CancellationToken): Promise<AskResult>;
  onProgress<P>(type: ProgressType<P>, token: ProgressToken, handler: (value: P) => void): Disposable;
}

export interface WorkDoneUpdate {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

export interface AskHandlers {
  /** Each partial result's new text, in order. */
  onChunk?(text: string): void;
  /** The server's work-done progress for this question (prefill, queueing). */
  onWorkDone?(update: WorkDoneUpdate): void;
}

export interface AskOutcome {
  /** The final text: the result's, else the concatenated chunks. */
  text: string;
  result?: AskResult;
  cancelled: boolean;
}

export const CANCELLED: unique symbol = Symbol('cancelled');

/**
 * The promise's value, or CANCELLED as soon as the token is cancelled (a
 * server need not answer a $/cancelRequest at once, or at all). A rejection
 * that comes after the cancellation is swallowed.
 */
export function untilCancelled<T>(promise: Promise<T>, token?: CancellationToken): Promise<T | typeof CANCELLED> {
  if (!token) {
    return promise;
  }
  promise.catch(() => undefined);
  if (token.isCancellationRequested) {
    return Promise.resolve(CANCELLED);
  }
  return new Promise<T | typeof CANCELLED>((resolve, reject) => {
    const sub = token.onCancellationRequested(() => {
      sub.dispose();
      resolve(CANCELLED);
    });
    promise.then(
      (v) => {
        sub.dispose();
        resolve(v);
      },
      (e) => {
        sub.dispose();
        reject(e);
      },
    );
  });
}

/** Whether an error is the answer to a cancelled request. */
export function isCancellation(err: unknown): boolean {
  if (err === null || typeof err !== 'object') {
    return false;
  }
  const e = err as { code?: unknown; name?: unknown };
  return (
    e.code === ErrorCodes.RequestCancelled ||
    e.code === ErrorCodes.ServerCancelled ||
    e.name === 'Canceled' ||
    e.name === 'CancellationError'
  );
}

/**
 * Sends one `lore/ask` with fresh partial-result and work-done tokens and
 * reports the chunks as they arrive. When the token is cancelled the promise
 * settles at once with what arrived (cancelled: true), whether or not the
 * server answers the $/cancelRequest. Other errors reject.
 */
export async function runAsk(
  transport: AskTransport,
  input: Omit<AskInput, 'partialResultToken' | 'workDoneToken'>,
  handlers: AskHandlers = {},
  token?: CancellationToken,
): Promise<AskOutcome> {
  const partialResultToken = newProgressToken('lore-answer');
  const workDoneToken = newProgressToken('lore-work');
  const params = buildAskParams({ ...input, partialResultToken, workDoneToken });
  if (token?.isCancellationRequested) {
    return { text: '', cancelled: true };
  }
  let text = '';
  const subs: Disposable[] = [];
  subs.push(
    transport.onProgress(AskPartialProgress, partialResultToken, (value) => {
      const t = chunkText(value);
      if (t) {
        text += t;
        handlers.onChunk?.(t);
      }
    }),
  );
  subs.push(
    transport.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      handlers.onWorkDone?.(value as WorkDoneUpdate);
    }),
  );
  try {
    const request = transport.sendRequest(AskRequest, params, token);
    const first = await untilCancelled(request, token);
    if (first === CANCELLED) {
      return { text, cancelled: true };
    }
    const result = first ?? ({ text: '' } as AskResult);
    if (typeof result.text === 'string' && result.text !== '') {
      text = result.text;
    }
    return { text, result, cancelled: false };
  } catch (err) {
    if (isCancellation(err) || token?.isCancellationRequested) {
      return { text, cancelled: true };
    }
    throw err;
  } finally {
    for (const s of subs) {
      s.dispose();
    }
  }
}
