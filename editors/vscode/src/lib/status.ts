// What the status bar item and the Lore: Status list show for a `lore/status` result.
import { formatBytes, formatDuration, formatRate, formatTokens, percent } from './format';
import { LoreStatus } from './protocol';

/**
 * A status as the views read it: any field may be missing, so that a daemon
 * of another version still shows what it sends.
 */
export type StatusFields = Partial<LoreStatus>;

export type StatusKind = 'ok' | 'busy' | 'warning' | 'error' | 'off';

export interface StatusBarView {
  /** Text with $(icon) codicons, e.g. "$(book) lore 12.3k tok ready". */
  text: string;
  /** Plain-text tooltip, one fact a line. */
  tooltip: string;
  kind: StatusKind;
}

/** Prefill progress in percent: from `progress` when the daemon reports it, else from the token counts. */
export function prefillPercent(s: StatusFields): number {
  if (s.progress && s.progress.total > 0) {
    return percent(s.progress.done, s.progress.total);
  }
  return percent(s.kv_tokens ?? s.prefilled_tokens, s.pack_tokens);
}

/** Stale tokens (superseded text still in the pack: old versions of edited files) as a percentage of the pack. */
export function stalePercent(s: StatusFields): number {
  return percent(s.stale_tokens, s.pack_tokens);
}

function omittedCount(s: StatusFields): number {
  return s.omitted?.length ?? 0;
}

function modelText(s: StatusFields): string | undefined {
  if (!s.model) {
    return s.model_path;
  }
  return s.model_path && s.model_path !== s.model ? `${s.model} (${s.model_path})` : s.model;
}

/** The lines of the status bar tooltip (and of the first part of Lore: Status). */
export function statusDetails(s: StatusFields): Array<{ label: string; value: string }> {
  const rows: Array<{ label: string; value: string }> = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') {
      rows.push({ label, value });
    }
  };
  let state = s.state ?? 'unknown';
  if (s.state === 'prefilling') {
    state += ` ${prefillPercent(s)}%`;
    if (s.progress && s.progress.total > 0) {
      state += ` (${formatTokens(s.progress.done)} of ${formatTokens(s.progress.total)} tokens)`;
    }
  }
  add('State', state);
  add('Error', s.error);
  add('Repository', s.repo);
  add('Model', modelText(s));
  if (s.pack_tokens !== undefined || s.pack_version !== undefined) {
    const parts: string[] = [];
    if (s.pack_version !== undefined) {
      parts.push(`version ${s.pack_version}`);
    }
    if (s.pack_tokens !== undefined) {
      parts.push(`${formatTokens(s.pack_tokens)} tokens`);
    }
    if (s.files !== undefined) {
      const reduced = omittedCount(s);
      parts.push(`${s.files} files` + (reduced ? ` (${reduced} reduced to fit)` : ''));
    }
    if (s.skipped) {
      parts.push(`${s.skipped} skipped`);
    }
    add('Pack', parts.join(' · '));
  }
  if (s.kv_tokens !== undefined) {
    let kv = `${formatTokens(s.kv_tokens)} tokens`;
    if (s.context_size) {
      kv += ` of ${formatTokens(s.context_size)} context`;
    }
    const how: string[] = [];
    if (s.restored_tokens) {
      how.push(`${formatTokens(s.restored_tokens)} restored`);
    }
    if (s.prefilled_tokens) {
      how.push(`${formatTokens(s.prefilled_tokens)} prefilled`);
    }
    if (how.length) {
      kv += ` (${how.join(', ')})`;
    }
    add('KV prefix', kv);
  }
  if (s.overlay_tokens !== undefined || s.stale_tokens !== undefined) {
    const stale = s.stale_tokens ?? 0;
    add(
      'Freshness',
      `overlay ${formatTokens(s.overlay_tokens ?? 0)} tokens (edits not folded in) · stale ${formatTokens(stale)} tokens` +
        (stale ? ` (superseded, ${stalePercent(s)}%)` : ''),
    );
  }
  const q: string[] = [];
  if (s.active_questions !== undefined) {
    q.push(`${s.active_questions} running`);
  }
  if (s.queued_questions !== undefined) {
    q.push(`${s.queued_questions} queued`);
  }
  if (s.sessions !== undefined) {
    q.push(`${s.sessions} sessions`);
  }
  if (s.buffers !== undefined) {
    q.push(`${s.buffers} open buffers`);
  }
  if (q.length) {
    add('Questions', q.join(' · '));
  }
  if (s.prefill_tokens_per_sec || s.decode_tokens_per_sec) {
    add(
      'Speed',
      `prefill ${formatRate(s.prefill_tokens_per_sec)} tok/s · decode ${formatRate(s.decode_tokens_per_sec)} tok/s`,
    );
  }
  const mem: string[] = [];
  if (s.memory_bytes) {
    mem.push(`${formatBytes(s.memory_bytes)} resident`);
  }
  if (s.snapshot_bytes) {
    mem.push(`snapshot ${formatBytes(s.snapshot_bytes)}`);
  }
  if (mem.length) {
    add('Memory', mem.join(' · '));
  }
  if (s.uptime_seconds !== undefined) {
    add('Uptime', formatDuration(s.uptime_seconds) + (s.pid ? ` (pid ${s.pid})` : ''));
  }
  return rows;
}

/**
 * The status bar item for a status, or for no status (problem says why: the
 * server is not running, the request failed).
 */
export function statusBarView(s: StatusFields | undefined, problem?: string): StatusBarView {
  if (!s) {
    return {
      text: '$(book) lore off',
      tooltip: `lore: ${problem || 'not running'}\nClick for Lore: Status`,
      kind: 'off',
    };
  }
  const tooltip =
    statusDetails(s)
      .map((r) => `${r.label}: ${r.value}`)
      .join('\n') + '\nClick for Lore: Status';
  const busy = (s.active_questions ?? 0) + (s.queued_questions ?? 0);
  const asking = busy > 0 ? ` $(comment-discussion) ${busy}` : '';
  switch (s.state) {
    case 'loading':
      return { text: '$(sync~spin) lore loading', tooltip, kind: 'busy' };
    case 'prefilling':
      return { text: `$(sync~spin) lore prefilling ${prefillPercent(s)}%${asking}`, tooltip, kind: 'busy' };
    case 'stopping':
      return { text: '$(book) lore stopping', tooltip, kind: 'busy' };
    case 'failed':
      return { text: '$(error) lore failed', tooltip, kind: 'error' };
    case 'ready': {
      const tok = s.pack_tokens !== undefined ? `${formatTokens(s.pack_tokens)} tok ` : '';
      if (s.stale_tokens && s.stale_tokens > 0) {
        return { text: `$(book) lore ${tok}stale ${stalePercent(s)}%${asking}`, tooltip, kind: 'warning' };
      }
      return { text: `$(book) lore ${tok}ready${asking}`, tooltip, kind: 'ok' };
    }
    default:
      return { text: `$(book) lore ${s.state ?? '?'}`, tooltip, kind: 'warning' };
  }
}

/**
 * Milliseconds until the next status poll: every second while the daemon
 * loads, prefills or stops, else the configured interval (in seconds, at
 * least 1); at least 5 s while there is no status.
 */
export function pollDelayMs(s: StatusFields | undefined, intervalSeconds: number): number {
  const base = Math.max(1, Number.isFinite(intervalSeconds) ? intervalSeconds : 5) * 1000;
  if (!s) {
    return Math.max(base, 5000);
  }
  if (s.state === 'loading' || s.state === 'prefilling' || s.state === 'stopping') {
    return Math.min(base, 1000);
  }
  return base;
}

export interface StatusListItem {
  label: string;
  description?: string;
  /** A path relative to the repository, for the items that list reduced files. */
  path?: string;
}

/** The entries of the Lore: Status quick pick: the details, then the files not in full. */
export function statusListItems(s: StatusFields): StatusListItem[] {
  const items: StatusListItem[] = statusDetails(s).map((r) => ({ label: r.label, description: r.value }));
  if (s.omitted) {
    for (const o of s.omitted) {
      items.push({ label: `$(file) ${o.path}`, description: o.reason, path: o.path });
    }
  }
  return items;
}
