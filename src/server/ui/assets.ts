// The web page's only style sheet and script, inline in every page (no external assets): the
// Content-Security-Policy allows exactly these bytes by their hashes (ui-headers.ts).

export const STYLE = `:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--accent:#0550ae;--code:#f3f5f7;--warn:#8a2c0d;--warnbg:#fff1e6}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9ba6b1;--line:#30363d;--accent:#79c0ff;--code:#161b22;--warn:#fdba74;--warnbg:#2b1a0c}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999rem}.skip:focus{left:1rem;top:.5rem;background:var(--bg);padding:.25rem .5rem;z-index:1}
header{border-bottom:1px solid var(--line);padding:.5rem 1rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header .brand{font-weight:700;color:var(--fg);text-decoration:none}
header ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}
header a[aria-current]{font-weight:700}
main{max-width:64rem;margin:0 auto;padding:1rem}
footer{max-width:64rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.875rem}
h1{font-size:1.6rem;margin:.5rem 0;overflow-wrap:anywhere}h2{font-size:1.2rem;margin-top:1.5rem}
.searchrow{display:flex;gap:.5rem;flex-wrap:wrap;margin:.25rem 0}
input[type=search]{font:inherit;padding:.4rem .6rem;width:min(32rem,100%);border:1px solid var(--muted);border-radius:4px;background:var(--bg);color:var(--fg)}
button{font:inherit;padding:.3rem .8rem;border:1px solid var(--muted);border-radius:4px;background:var(--code);color:var(--fg);cursor:pointer}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);border-radius:4px}
code{padding:.1rem .3rem;overflow-wrap:anywhere}
pre{padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9rem}
.results{columns:15rem;padding-left:1.25rem}
.results li{break-inside:avoid;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td.num{text-align:right;white-space:nowrap}
.hash{font-size:.75rem;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.summary{font-size:1.1rem;margin:.25rem 0 1rem}
.yanked{color:var(--warn);background:var(--warnbg);padding:0 .3rem;border-radius:3px}
.versions{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.35rem .9rem}
.versions a[aria-current]{font-weight:700}
.install{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
.install code{font-size:1rem;padding:.35rem .6rem;user-select:all}
dl.figures{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.5rem}
dl.figures dt{font-weight:600}dl.figures dd{margin:0}
.pager{display:flex;gap:1rem}`;

/**
 * Progressive enhancement only: without it, the search is a form and the copy line selectable text.
 * As the user types, the names matching come from `+search` (JSON, the first page of matches) and
 * replace the list, set as text, never as HTML; copy buttons show up and copy their line.
 */
export const SCRIPT = `(function () {
  'use strict';
  var form = document.getElementById('search');
  var input = document.getElementById('q');
  var list = document.getElementById('results');
  var count = document.getElementById('count');
  var pager = document.getElementById('pager');
  if (form && input && list && count) {
    var root = form.getAttribute('data-root') || './';
    var endpoint = form.getAttribute('data-search');
    var timer = 0;
    var pending = null;
    var show = function (query, answer) {
      var items = document.createDocumentFragment();
      answer.names.forEach(function (name) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = root + encodeURIComponent(name) + '/';
        a.textContent = name;
        li.appendChild(a);
        items.appendChild(li);
      });
      list.replaceChildren(items);
      count.textContent = answer.summary;
      if (pager) {
        pager.replaceChildren();
        if (answer.total > answer.names.length) {
          var next = document.createElement('a');
          next.href = '?q=' + encodeURIComponent(query) + '&page=2';
          next.rel = 'next';
          next.textContent = 'Next page';
          pager.appendChild(next);
        }
      }
      history.replaceState(null, '', query === '' ? location.pathname : '?q=' + encodeURIComponent(query));
    };
    var ask = function () {
      var query = input.value;
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(endpoint + '?q=' + encodeURIComponent(query), { headers: { Accept: 'application/json' }, signal: pending.signal })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (answer) { show(query, answer); })
        .catch(function () {});
    };
    input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(ask, 60); });
    form.addEventListener('submit', function (event) { event.preventDefault(); clearTimeout(timer); ask(); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
    var line = document.getElementById(button.getAttribute('data-copy'));
    if (!line) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var done = function (text) { button.textContent = text; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
      var select = function () {
        var range = document.createRange();
        range.selectNodeContents(line);
        var selection = getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        done(document.execCommand && document.execCommand('copy') ? 'Copied' : 'Selected: press Ctrl+C');
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(line.textContent).then(function () { done('Copied'); }, select);
      else select();
    });
  });
})();`;
