// The answer panel's page: a static shell with a strict Content-Security-Policy
// and one nonce-tagged script that swaps in the rendered answer on each update
// message. Plain fields are set with textContent; only the Markdown renderer's
// output (raw HTML escaped) goes through innerHTML.
import { randomBytes } from 'crypto';
import { escapeHtml, renderMarkdown } from './markdown';

export type Phase = 'waiting' | 'streaming' | 'done' | 'cancelled' | 'error';

export interface AnswerView {
  /** What was run: "Ask", "Plan", "Explain", or a server command. */
  title: string;
  question?: string;
  /** Where, e.g. "daemon/daemon.go:12-20". */
  location?: string;
  /** The answer so far (Markdown). */
  markdown: string;
  phase: Phase;
  /** One line under the question: "prefilling 45%", an error. */
  note?: string;
  /** Statistics once done. */
  footer?: string;
}

/** The message the page's script applies. */
export interface UpdateMessage {
  type: 'update';
  title: string;
  question: string;
  location: string;
  html: string;
  phase: Phase;
  note: string;
  footer: string;
}

export function updateMessage(v: AnswerView): UpdateMessage {
  return {
    type: 'update',
    title: v.title,
    question: v.question ?? '',
    location: v.location ?? '',
    html: renderMarkdown(v.markdown),
    phase: v.phase,
    note: v.note ?? '',
    footer: v.footer ?? '',
  };
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, 'x');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  const src = cspSource.replace(/[;'"\s]+/g, ' ').trim();
  return [
    "default-src 'none'",
    `img-src ${src} data:`,
    `style-src ${src} 'nonce-${nonce}'`,
    `font-src ${src}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; line-height: 1.5; }
header { position: sticky; top: 0; background: var(--vscode-editor-background); padding: 8px 0; border-bottom: 1px solid var(--vscode-panel-border, transparent); z-index: 1; }
#title { font-size: 0.85em; text-transform: uppercase; opacity: 0.7; }
#question { font-weight: 600; margin: 2px 0; white-space: pre-wrap; }
#location { font-family: var(--vscode-editor-font-family); font-size: 0.9em; opacity: 0.8; }
#note { font-size: 0.9em; opacity: 0.8; }
.error #note { color: var(--vscode-errorForeground); opacity: 1; }
#stop { float: right; margin-left: 8px; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; cursor: pointer; }
#stop:hover { background: var(--vscode-button-hoverBackground); }
.done #stop, .cancelled #stop, .error #stop { display: none; }
#answer pre { background: var(--vscode-textCodeBlock-background); padding: 8px; overflow-x: auto; }
#answer code { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
#answer a { color: var(--vscode-textLink-foreground); }
#answer table { border-collapse: collapse; }
#answer th, #answer td { border: 1px solid var(--vscode-panel-border, #8884); padding: 2px 6px; }
.waiting #answer::after, .streaming #answer::after { content: "▍"; opacity: 0.6; }
footer { margin-top: 16px; font-size: 0.85em; opacity: 0.7; }
`;

// Runs in the webview. Links are not followed by the page: the extension
// decides (web links open outside, repository paths open in the editor).
const SCRIPT = `
(function () {
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);
  function apply(m) {
    const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    document.body.className = m.phase;
    $('title').textContent = m.title;
    $('question').textContent = m.question;
    $('location').textContent = m.location;
    $('note').textContent = m.note;
    $('answer').innerHTML = m.html;
    $('footer').textContent = m.footer;
    if (nearBottom && (m.phase === 'streaming' || m.phase === 'waiting')) {
      window.scrollTo(0, document.body.scrollHeight);
    }
  }
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'update') { apply(e.data); }
  });
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a') : null;
    if (a) {
      e.preventDefault();
      vscode.postMessage({ type: 'link', href: a.getAttribute('href') || '' });
    }
  });
  $('stop').addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
  vscode.postMessage({ type: 'ready' });
})();
`;

/** The whole page, with the view's current state already in it. */
export function pageHtml(opts: { cspSource: string; nonce: string; view: AnswerView }): string {
  const m = updateMessage(opts.view);
  const nonce = opts.nonce;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(opts.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(m.title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body class="${m.phase}">
<header>
<button id="stop" title="Stop the answer">Stop</button>
<div id="title">${escapeHtml(m.title)}</div>
<div id="question">${escapeHtml(m.question)}</div>
<div id="location">${escapeHtml(m.location)}</div>
<div id="note">${escapeHtml(m.note)}</div>
</header>
<main id="answer">${m.html}</main>
<footer id="footer">${escapeHtml(m.footer)}</footer>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
