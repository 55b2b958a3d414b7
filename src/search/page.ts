/** The search page of `clipstream serve` (GET /): one HTML document, no build step, no outside requests. */
export const SEARCH_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clipstream search</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
  form { display: flex; gap: .5rem; margin-bottom: 1rem; }
  input[type=search] { flex: 1; font-size: 1.1rem; padding: .4rem .6rem; }
  button { font-size: 1rem; padding: .4rem 1rem; }
  #status { color: #666; min-height: 1.4em; }
  ol { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 1rem; }
  li.hit { border: 1px solid #ddd; border-radius: 6px; overflow: hidden; }
  li.hit img { display: block; width: 100%; aspect-ratio: 16 / 9; object-fit: contain; background: #111; }
  li.hit div { padding: .4rem .6rem; }
  .video { font-weight: 600; word-break: break-all; }
  .times, .score { color: #555; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>clipstream search</h1>
<form id="form">
  <input id="q" name="q" type="search" placeholder="a red circle" autofocus required maxlength="4096">
  <button type="submit">Search</button>
</form>
<p id="status"></p>
<ol id="hits"></ol>
<script>
(() => {
  const form = document.getElementById('form');
  const q = document.getElementById('q');
  const status = document.getElementById('status');
  const list = document.getElementById('hits');
  const sec = (s) => {
    const m = Math.floor(s / 60);
    return m + ':' + (s - m * 60).toFixed(1).padStart(4, '0');
  };
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = q.value.trim();
    if (!text) return;
    status.textContent = 'searching…';
    list.replaceChildren();
    try {
      const res = await fetch('search?' + new URLSearchParams({ q: text, top: '12' }));
      const body = await res.json();
      if (!res.ok) throw new Error(body.error ? body.error.code + ': ' + body.error.message : res.statusText);
      status.textContent = body.hits.length + ' moment' + (body.hits.length === 1 ? '' : 's') + ' for "' + body.query + '"';
      for (const h of body.hits) {
        const li = el('li', 'hit');
        li.dataset.video = h.videoId;
        li.dataset.start = String(h.startSec);
        li.dataset.end = String(h.endSec);
        const img = el('img');
        img.alt = h.videoId + ' at ' + sec(h.peakSec);
        img.loading = 'lazy';
        img.src = 'thumbnail?' + new URLSearchParams({ video: h.videoId, t: String(h.peakSec) });
        const info = el('div');
        info.append(el('div', 'video', h.videoId), el('div', 'times', sec(h.startSec) + ' – ' + sec(h.endSec)),
          el('div', 'score', 'score ' + h.score.toFixed(3)));
        li.append(img, info);
        list.append(li);
      }
    } catch (err) {
      status.textContent = 'search failed: ' + err.message;
    }
  });
})();
</script>
</body>
</html>
`;
