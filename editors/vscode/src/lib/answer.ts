// Text around an answer: the statistics line under it, and the Markdown for
// whatever the server's executeCommand returned.
import { formatTokens } from './format';
import { AskResult } from './protocol';

/**
 * "first token 120 ms · 12.3k prompt tokens (12.2k cached, 80 prefilled) ·
 * 64 generated · 2.5 s · stop: eos · pack 7". The server's elapsedMs wins
 * over the one measured by the caller. Statistics a server does not send
 * are left out.
 */
export function formatAnswerStats(r: Partial<AskResult>, elapsedMs?: number): string {
  const parts: string[] = [];
  if (r.queuedMs !== undefined && r.queuedMs >= 100) {
    parts.push(`queued ${(r.queuedMs / 1000).toFixed(1)} s`);
  }
  if (r.ttftMs !== undefined) {
    parts.push(`first token ${Math.round(r.ttftMs)} ms`);
  }
  if (r.promptTokens !== undefined) {
    const how: string[] = [];
    if (r.cachedTokens !== undefined) {
      how.push(`${formatTokens(r.cachedTokens)} cached`);
    }
    if (r.prefilledTokens !== undefined) {
      how.push(`${formatTokens(r.prefilledTokens)} prefilled`);
    }
    parts.push(`${formatTokens(r.promptTokens)} prompt tokens` + (how.length ? ` (${how.join(', ')})` : ''));
  }
  if (r.generatedTokens !== undefined) {
    parts.push(`${r.generatedTokens} generated`);
  }
  const elapsed = r.elapsedMs ?? elapsedMs;
  if (elapsed !== undefined) {
    parts.push(`${(elapsed / 1000).toFixed(1)} s`);
  }
  if (r.stopReason) {
    parts.push(`stop: ${r.stopReason}`);
  }
  if (r.packVersion) {
    parts.push(`pack ${r.packVersion}`);
  }
  if (r.session) {
    let s = `session ${r.session}`;
    if (r.sessionTurn !== undefined) {
      s += ` turn ${r.sessionTurn}`;
    }
    parts.push(s);
  }
  if (r.retrieved?.length) {
    // As lore/api.SeenNote: which retrieved files the answer saw whole.
    const full = r.retrievedFull ?? [];
    const excerpts = r.retrieved.filter((p) => !full.includes(p));
    if (full.length) {
      parts.push(`saw in full: ${full.join(', ')}`);
    }
    if (excerpts.length) {
      parts.push(`as excerpts: ${excerpts.join(', ')}`);
    }
  }
  if (r.omitted?.length) {
    parts.push(`${r.omitted.length} files not in full`);
  }
  return parts.join(' · ');
}

function fence(text: string, lang: string): string {
  let ticks = '```';
  while (text.includes(ticks)) {
    ticks += '`';
  }
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

/**
 * What to show for the result of one of the server's commands: an answer
 * object's text, a string as Markdown, anything else as JSON.
 */
export function commandResultMarkdown(result: unknown): { markdown: string; answer?: AskResult } {
  if (result === undefined || result === null) {
    return { markdown: '_(no answer)_' };
  }
  if (typeof result === 'string') {
    return { markdown: result };
  }
  if (typeof result === 'object' && typeof (result as AskResult).text === 'string') {
    const answer = result as AskResult;
    return { markdown: answer.text === '' ? '_(empty answer)_' : answer.text, answer };
  }
  return { markdown: fence(JSON.stringify(result, null, 2), 'json') };
}
