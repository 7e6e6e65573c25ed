// Markdown → HTML for the answer panel. Raw HTML in an answer is escaped
// (html: false), links are limited to web, mail and repository-relative
// targets, and the panel's Content-Security-Policy allows no script but its
// own nonce-tagged one.
import MarkdownIt = require('markdown-it');

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * Whether a link target may appear in the panel: http(s) and mailto URLs,
 * fragments, and scheme-less paths (repository files, opened in the editor).
 * `file.go:12` counts as a path, not as a scheme "file.go".
 */
export function isAllowedLink(url: string): boolean {
  const u = url.trim();
  if (u === '') {
    return false;
  }
  // Control characters and backslashes can smuggle schemes past naive parsers.
  if (/[\u0000-\u001f\u007f\\]/.test(u)) {
    return false;
  }
  const m = SCHEME.exec(u);
  if (!m) {
    return true;
  }
  const scheme = m[1].toLowerCase();
  if (scheme === 'http' || scheme === 'https' || scheme === 'mailto') {
    return true;
  }
  // "path/file.go:12" or "file.go:12:3": a dot or slash before the colon and digits after it.
  return /[./]/.test(m[1]) && /^[^:]+:\d+(:\d+)?$/.test(u);
}

function createRenderer(): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });
  md.validateLink = isAllowedLink;
  // Only explicit URLs become links: fuzzy matching would turn "setup.py" or
  // "README.md" into web addresses (.py and .md are country domains).
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
  return md;
}

let renderer: MarkdownIt | undefined;

/** Renders Markdown (possibly cut off mid-stream) to safe HTML. */
export function renderMarkdown(src: string): string {
  renderer ??= createRenderer();
  return renderer.render(src);
}

export interface FileLink {
  path: string;
  /** 1-based line, when the link names one. */
  line?: number;
  /** 1-based column, when the link names one. */
  column?: number;
}

/**
 * The file a scheme-less link in an answer points at: `dir/file.go`,
 * `dir/file.go:12`, `dir/file.go:12:3`, `dir/file.go#L12` or `#L12-L20`.
 * Undefined for web links, fragments alone and anything else.
 */
export function parseFileLink(href: string): FileLink | undefined {
  let h = href.trim();
  if (h === '' || h.startsWith('#') || !isAllowedLink(h)) {
    return undefined;
  }
  const m = SCHEME.exec(h);
  if (m && ['http', 'https', 'mailto'].includes(m[1].toLowerCase())) {
    return undefined;
  }
  let line: number | undefined;
  let column: number | undefined;
  const hash = h.indexOf('#');
  if (hash >= 0) {
    const frag = /^L(\d+)(?:C(\d+))?(?:-L?\d+(?:C\d+)?)?$/i.exec(h.slice(hash + 1));
    if (frag) {
      line = Number(frag[1]);
      column = frag[2] ? Number(frag[2]) : undefined;
    }
    h = h.slice(0, hash);
  } else {
    const pos = /^(.*?):(\d+)(?::(\d+))?$/.exec(h);
    if (pos) {
      h = pos[1];
      line = Number(pos[2]);
      column = pos[3] ? Number(pos[3]) : undefined;
    }
  }
  const q = h.indexOf('?');
  if (q >= 0) {
    h = h.slice(0, q);
  }
  try {
    h = decodeURIComponent(h);
  } catch {
    // keep it as written
  }
  if (h.startsWith('./')) {
    h = h.slice(2);
  }
  if (h === '') {
    return undefined;
  }
  const out: FileLink = { path: h };
  if (line !== undefined && line > 0) {
    out.line = line;
    if (column !== undefined && column > 0) {
      out.column = column;
    }
  }
  return out;
}
