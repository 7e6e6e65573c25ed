// Number formatting shared by the status bar, the status list and the answer panel.

function trimZero(s: string): string {
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/** 999 → "999", 12345 → "12.3k", 123456 → "123k", 1234567 → "1.2M". */
export function formatTokens(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) {
    return '?';
  }
  const v = Math.max(0, Math.round(n));
  if (v < 1000) {
    return String(v);
  }
  if (v < 1_000_000) {
    const k = v / 1000;
    if (k < 100) {
      const s = trimZero(k.toFixed(1));
      return s === '100' ? '100k' : `${s}k`;
    }
    const r = Math.round(k);
    return r >= 1000 ? '1M' : `${r}k`;
  }
  const m = v / 1_000_000;
  return m < 100 ? `${trimZero(m.toFixed(1))}M` : `${Math.round(m)}M`;
}

/** 1536 → "1.5 KiB", 3 GiB → "3 GiB". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n < 0) {
    return '?';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) {
    return `${Math.round(v)} B`;
  }
  return `${trimZero(v < 100 ? v.toFixed(1) : v.toFixed(0))} ${units[i]}`;
}

/** 42 → "42s", 3700 → "1h 1m". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '?';
  }
  const s = Math.floor(seconds);
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${s % 60}s`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/**
 * part/whole as a whole percentage in 0..100. A non-zero part never shows as 0%
 * and an unfinished one never as 100%, so "stale 0%" or "prefilling 100%" do not appear.
 */
export function percent(part: number | undefined, whole: number | undefined): number {
  if (!part || !whole || !Number.isFinite(part) || !Number.isFinite(whole) || whole <= 0 || part <= 0) {
    return 0;
  }
  if (part >= whole) {
    return 100;
  }
  const p = Math.round((part / whole) * 100);
  return Math.min(99, Math.max(1, p));
}

/** A rate such as tokens per second: 1234.5 → "1.2k", 12.34 → "12.3". */
export function formatRate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n <= 0) {
    return '?';
  }
  return n < 1000 ? trimZero(n.toFixed(1)) : formatTokens(n);
}
