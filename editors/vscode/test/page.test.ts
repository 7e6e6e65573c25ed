import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { contentSecurityPolicy, makeNonce, pageHtml, updateMessage } from '../src/lib/page';

test('nonces are random and attribute-safe', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9]{24}$/);
});

test('the policy allows nothing but the nonce-tagged script and style', () => {
  const csp = contentSecurityPolicy('https://*.vscode-cdn.net', 'N0nce');
  assert.equal(
    csp,
    "default-src 'none'; img-src https://*.vscode-cdn.net data:; style-src https://*.vscode-cdn.net 'nonce-N0nce'; font-src https://*.vscode-cdn.net; script-src 'nonce-N0nce'",
  );
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  // A source with quotes or semicolons cannot add directives.
  assert.doesNotMatch(contentSecurityPolicy("x; script-src 'unsafe-inline'", 'n'), /; script-src 'unsafe-inline'/);
});

test('the page escapes the question and carries the rendered answer', () => {
  const html = pageHtml({
    cspSource: 'vscode-resource:',
    nonce: 'abc123',
    view: {
      title: 'Ask',
      question: 'Why <script>alert(1)</script>?',
      location: 'a.go:3',
      markdown: '**yes** <b>no</b>',
      phase: 'done',
      footer: 'first token 5 ms',
    },
  });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
  assert.match(html, /Why &lt;script&gt;alert\(1\)&lt;\/script&gt;\?/);
  assert.match(html, /<strong>yes<\/strong> &lt;b&gt;no&lt;\/b&gt;/);
  assert.match(html, /<body class="done">/);
  // Exactly one script element, and it carries the nonce.
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.deepEqual(scripts, ['<script nonce="abc123">']);
  assert.match(html, /<style nonce="abc123">/);
});

test('update messages carry plain fields and rendered HTML', () => {
  const m = updateMessage({ title: 'Plan', markdown: 'a <i>b</i>', phase: 'streaming' });
  assert.deepEqual(m, {
    type: 'update',
    title: 'Plan',
    question: '',
    location: '',
    html: '<p>a &lt;i&gt;b&lt;/i&gt;</p>\n',
    phase: 'streaming',
    note: '',
    footer: '',
  });
});
