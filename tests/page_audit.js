// Measurements of a built page, run inside the page by tests/test_browser.py (execute_script).
// Defines window.rnnbookAudit = {layout, text, figures, openAll, setTheme}; each returns plain
// JSON. Nothing here changes the page except openAll (opens every hidden block) and setTheme.
(function () {
  if (window.rnnbookAudit) return;

  const ARTICLE = 'article.bd-article';

  // A short CSS path of an element, from the article down: tag#id.class:nth-of-type(n) > ...
  function cssPath(el, stop) {
    const parts = [];
    for (let e = el; e && e !== stop && e.nodeType === 1; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + '#' + CSS.escape(e.id)); break; }
      const cls = [...e.classList].filter(c => !/^(docutils|container|notranslate)$/.test(c))
          .slice(0, 2);
      if (cls.length) part += '.' + cls.map(c => CSS.escape(c)).join('.');
      const parent = e.parentElement;
      if (parent) {
        const same = [...parent.children].filter(c => c.tagName === e.tagName);
        if (same.length > 1) part += `:nth-of-type(${same.indexOf(e) + 1})`;
      }
      parts.unshift(part);
    }
    return parts.join(' > ');
  }

  // The nearest section heading above an element: where a reader finds it.
  function sectionOf(el) {
    const section = el.closest('section');
    const h = section && section.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4');
    return h ? h.textContent.replace(/#$/, '').trim().slice(0, 70) : '';
  }

  function snippet(el) {
    const svg = el.matches('svg') ? el : el.querySelector('svg[aria-label], svg > title');
    const label = svg && (svg.getAttribute('aria-label') ||
                          (svg.querySelector(':scope > title') || {}).textContent);
    if (label && !el.closest('.plotly-graph-div, mjx-container')) return ('[svg] ' + label).slice(0, 70);
    let text = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode() && text.length < 200) {
      if (!walker.currentNode.parentElement.closest('style, script')) text += walker.currentNode.textContent + ' ';
    }
    text = text.replace(/\s+/g, ' ').trim();
    if (!text && el.getAttribute) text = el.getAttribute('aria-label') || el.getAttribute('alt') || '';
    return text.slice(0, 70);
  }

  // Kinds of element a report names.
  function kindOf(el) {
    if (el.closest('mjx-container[display="true"], div.math')) return 'display equation';
    if (el.closest('.cell_input')) return 'code cell';
    if (el.closest('.cell_output')) {
      if (el.closest('.plotly-graph-div')) return 'plotly figure';
      if (el.closest('.jupyter-widgets')) return 'widget';
      if (el.matches('img') || el.querySelector('img')) return 'image output';
      if (el.matches('svg') || el.querySelector(':scope > svg')) return 'svg output';
      if (el.closest('table')) return 'table output';
      if (el.closest('pre')) return 'printed output';
      return 'output';
    }
    if (el.closest('div[class*="highlight-"] pre, pre')) return 'code block';
    if (el.closest('table')) return 'table';
    return el.tagName.toLowerCase();
  }

  const scrolls = s => /(auto|scroll|hidden|clip)/.test(s.overflowX);

  // Every element of the article that is wider than the article's content box: its own box
  // reaches past the column's edges, or it is a scroll container whose content is wider than
  // itself (content hidden behind a sideways scroll). Descendants of a clipping container are
  // not measured (the container is); of nested offenders only the outermost is listed.
  // allowCodeScroll: code cells (and code blocks) that scroll are not offenders.
  function layout(allowCodeScroll) {
    const art = document.querySelector(ARTICLE);
    if (!art) return {error: 'no ' + ARTICLE};
    const ar = art.getBoundingClientRect();
    const as = getComputedStyle(art);
    const left = ar.left + parseFloat(as.paddingLeft);
    const right = ar.right - parseFloat(as.paddingRight);
    const column = right - left;
    const offenders = [];
    const offending = new Set();
    const clipped = el => {
      for (let p = el.parentElement; p && p !== art; p = p.parentElement) {
        if (scrolls(getComputedStyle(p))) return true;
      }
      return false;
    };
    for (const el of art.querySelectorAll('*')) {
      if (el.closest('script, style, mjx-assistive-mml')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const s = getComputedStyle(el);
      if (s.visibility === 'hidden' || s.display === 'none') continue;
      // Inside a clipping or scrolling ancestor an element's box may reach past the column
      // (the ancestor is measured instead), but a scroll container there still hides content.
      const inside = clipped(el);
      let need = 0, how = '';
      if (!inside && (r.right > right + 1 || r.left < left - 1)) {
        need = Math.max(r.right, right) - Math.min(r.left, left);
        how = 'box';
      }
      // (a scroll container hiding at most 4 px, e.g. an italic overhang, is not; overflow
      // does not apply to inline boxes, whose clientWidth is 0)
      // Typeset math: its content is the SVG (MathJax's invisible assistive MathML, laid out
      // beside it, would count in scrollWidth).
      let content = el.scrollWidth;
      const svg = el.matches('span.math, mjx-container')
          ? el.querySelector('mjx-container > svg') || el.querySelector(':scope > svg') : null;
      if (svg) content = Math.ceil(svg.getBoundingClientRect().right - r.left + el.scrollLeft);
      if (s.display !== 'inline' && scrolls(s) && content > el.clientWidth + 4) {
        const w = content + (r.width - el.clientWidth);
        if (w > need) { need = w; how = s.overflowX === 'hidden' || s.overflowX === 'clip' ? 'clipped' : 'scrolls'; }
      }
      if (!how) continue;
      let ancestor = false;
      for (let p = el.parentElement; p && p !== art; p = p.parentElement) {
        if (offending.has(p)) { ancestor = true; break; }
      }
      offending.add(el);
      if (ancestor) continue;
      const kind = kindOf(el);
      const code = kind === 'code cell' || kind === 'code block';
      if (allowCodeScroll && code && how === 'scrolls' && r.right <= right + 1 && r.left >= left - 1) continue;
      offenders.push({width: Math.round(need), how, kind, path: cssPath(el, art),
                      section: sectionOf(el), text: snippet(el)});
    }
    offenders.sort((a, b) => b.width - a.width);
    const kinds = {};
    offenders.forEach(o => { kinds[o.kind] = (kinds[o.kind] || 0) + 1; });
    const doc = document.documentElement;
    return {column: Math.round(column), viewport: window.innerWidth,
            page_scroll_width: Math.max(doc.scrollWidth, document.body.scrollWidth),
            count: offenders.length, kinds, offenders: offenders.slice(0, 40)};
  }

  // Text a reader should never see. Text nodes of the article and of the page's contents
  // sidebars, hidden ones included (closed solutions are checked too); math and code input are
  // not searched for TeX (they are meant to hold it).
  const TEX = /\$|\\mathbf|\\frac|\\mathrm|\\boldsymbol|\\partial|\\sum\b|\\prod\b|\\top\b|\\odot|\\sigma|\\theta|\\tanh|\\left\b|\\right\b|[A-Za-z)\]}|]\^\(|\^\{|_\{/;
  // printed output is data (a character model's samples hold "$" and braces): commands only
  const TEX_COMMAND = /\\(mathbf|frac|mathrm|boldsymbol|partial|sum|prod|top|odot|sigma|theta|tanh|hat|mathcal|left|right)\b|[A-Za-z)\]|]\^\(/;
  const TQDM = /\d+%\||\d\s?it\/s\b|\bs\/it\b|[█▉▊▋▌▍▎▏]{2,}|\[\d\d:\d\d<\d\d:\d\d/;
  const MARKER = /###\s*(BEGIN|END)\s+SOLUTION/;

  function text() {
    const roots = [document.querySelector(ARTICLE),
                   ...document.querySelectorAll('.bd-sidebar-secondary, .bd-sidebar-primary')]
        .filter(Boolean);
    const found = {tex: [], copyright: [], tqdm: [], markers: []};
    const seen = new Set();
    const add = (list, node, match) => {
      const el = node.parentElement;
      const key = list.length + ':' + node.textContent;
      if (list.length >= 15 || seen.has(key)) return;
      seen.add(key);
      const t = node.textContent;
      const at = Math.max(0, match.index - 30);
      list.push({text: t.slice(at, at + 80).replace(/\s+/g, ' ').trim(), kind: kindOf(el),
                 section: sectionOf(el), path: cssPath(el, document.body)});
    };
    for (const root of roots) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const node = walker.currentNode;
        const el = node.parentElement;
        if (!el || el.closest('script, style, noscript')) continue;
        const t = node.textContent;
        let m;
        if (!el.closest('mjx-container, .MathJax, span.math, div.math, .cell_input, code, ' +
                        'pre, div[class*="highlight-"], input, textarea, select') &&
            (m = TEX.exec(t))) add(found.tex, node, m);
        else if (el.closest('.cell_output pre') && (m = TEX_COMMAND.exec(t))) add(found.tex, node, m);
        if ((m = /©/.exec(t))) add(found.copyright, node, m);
        if ((m = TQDM.exec(t))) add(found.tqdm, node, m);
        if (el.closest('.cell') && (m = MARKER.exec(t))) add(found.markers, node, m);
      }
    }
    // tqdm's notebook bars are ipywidgets progress bars (saved widget state).
    for (const bar of document.querySelectorAll(ARTICLE + ' .widget-progress, ' + ARTICLE +
                                                 ' .progress-bar, ' + ARTICLE + ' progress')) {
      if (found.tqdm.length < 15) found.tqdm.push({text: 'progress bar widget: ' + snippet(bar.closest('.jupyter-widgets') || bar),
                                                   kind: 'widget', section: sectionOf(bar),
                                                   path: cssPath(bar, document.body)});
    }
    // An output box that shows nothing: no text, no image, no figure, no widget.
    const empty = [];
    for (const out of document.querySelectorAll(ARTICLE + ' .cell_output > *')) {
      if ((out.textContent || '').trim()) continue;
      if (out.matches('img, svg, canvas, iframe, video, audio, .jupyter-widgets, .plotly-graph-div')) continue;
      if (out.querySelector('img, svg, canvas, iframe, video, audio, .jupyter-widgets, ' +
                            'script[type="application/vnd.jupyter.widget-view+json"], ' +
                            '.plotly-graph-div')) continue;
      empty.push({path: cssPath(out, document.body), section: sectionOf(out),
                  html: out.outerHTML.slice(0, 120)});
    }
    found.empty_outputs = empty;
    return found;
  }

  // The text sizes of the figures, in CSS px as drawn in the page.
  function svgTextSizes(svg) {
    const sizes = [];
    for (const t of svg.querySelectorAll('text, tspan')) {
      const own = [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
      if (!own) continue;
      const s = getComputedStyle(t);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) continue;
      const r = t.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const m = t.getScreenCTM();
      const scale = m ? Math.sqrt(Math.abs(m.a * m.d - m.b * m.c)) : 1;
      sizes.push({px: +(parseFloat(s.fontSize) * scale).toFixed(1), text: own.slice(0, 40)});
    }
    sizes.sort((a, b) => a.px - b.px);
    return sizes;
  }

  function figures() {
    const art = document.querySelector(ARTICLE);
    const as = getComputedStyle(art);
    const column = art.getBoundingClientRect().width - parseFloat(as.paddingLeft) - parseFloat(as.paddingRight);
    const plotly = [...art.querySelectorAll('.plotly-graph-div')].map(g => {
      const sizes = [...g.querySelectorAll('svg.main-svg')].flatMap(svgTextSizes)
          .sort((a, b) => a.px - b.px);
      return {id: g.id, section: sectionOf(g), title: (g.layout && g.layout.title && g.layout.title.text) || '',
              min_px: sizes.length ? sizes[0].px : null, smallest: sizes.slice(0, 4)};
    });
    const images = [...art.querySelectorAll('img')].map(img => ({
      src: img.getAttribute('src'), section: sectionOf(img), alt: (img.getAttribute('alt') || '').slice(0, 60),
      natural_width: img.naturalWidth, width: +img.getBoundingClientRect().width.toFixed(1),
      output: !!img.closest('.cell_output')}));
    const diagrams = [...art.querySelectorAll('svg')].filter(svg =>
        !svg.closest('.plotly-graph-div, mjx-container, .jupyter-widgets, .headerlink, button, a, .sd-octicon') &&
        !svg.parentElement.closest('svg') && svg.closest('.cell_output, figure, p, div'))
      .filter(svg => svg.getBoundingClientRect().width > 40)
      .map(svg => {
        const sizes = svgTextSizes(svg);
        const title = svg.querySelector(':scope > title');
        return {section: sectionOf(svg), path: cssPath(svg, art),
                width: Math.round(svg.getBoundingClientRect().width), column: Math.round(column),
                min_px: sizes.length ? sizes[0].px : null, smallest: sizes.slice(0, 4),
                role: svg.getAttribute('role') || '',
                label: (svg.getAttribute('aria-label') || (title && title.textContent) || '').trim().slice(0, 80)};
      });
    return {column: Math.round(column), plotly, images, diagrams};
  }

  // Open every hidden block (code cells behind a toggle, solution dropdowns, details).
  function openAll() {
    document.querySelectorAll(ARTICLE + ' details').forEach(d => { d.open = true; });
    document.querySelectorAll(ARTICLE + ' .toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
    document.querySelectorAll(ARTICLE + ' .toggle-details__container').forEach(e => { e.style.display = ''; });
    return true;
  }

  // pydata-sphinx-theme 0.17: data-mode / data-theme on <html>, remembered in localStorage.
  function setTheme(mode) {
    localStorage.setItem('mode', mode);
    localStorage.setItem('theme', mode);
    document.documentElement.dataset.mode = mode;
    document.documentElement.dataset.theme = mode;
    return getComputedStyle(document.body).backgroundColor;
  }

  window.rnnbookAudit = {layout, text, figures, openAll, setTheme, cssPath};
})();
