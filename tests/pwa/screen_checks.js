// Measures the screen as drawn (tests/pwa/screen_checks.py): returns the problems found and every word
// she can see (text, placeholders, typed values, the choices of each select).
() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const shown = (el) => {
    if (el.closest('.visually-hidden, [hidden]')) return false;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && Number(cs.opacity) > 0;
  };
  const say = (el) => {
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    return `<${el.tagName.toLowerCase()}${cls}> "${text}"`;
  };
  if (document.documentElement.scrollWidth > vw + 1) problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px)`);
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el)) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (cs.position !== 'fixed' && (r.left < -1 || r.right > vw + 1)) problems.push(`wider than the screen: ${say(el)} (${Math.round(r.left)}..${Math.round(r.right)})`);
    if (cs.display === 'inline' || ['SELECT', 'INPUT', 'TEXTAREA', 'IMG', 'svg'].includes(el.tagName)) continue;
    if (el.scrollWidth > el.clientWidth + 1) problems.push(`text cut or spilling sideways: ${say(el)} (${el.scrollWidth} > ${el.clientWidth} px)`);
    if (/hidden|clip/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 1) problems.push(`text cut off below: ${say(el)}`);
  }
  // Words that wrap where a single line is meant: tabs and buttons ("+ Baru", Sinkronkan, + Perempuan).
  for (const el of document.querySelectorAll('.tabs a, button, a.button, label.button')) {
    if (!shown(el)) continue;
    const lines = new Set();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const q of range.getClientRects()) lines.add(Math.round(q.top));
    }
    if (lines.size > 1) problems.push(`wraps onto ${lines.size} lines: ${say(el)}`);
  }
  const targets = 'button, a, label.button, label.side, .choice span, select, textarea, input:not([type=radio]):not([type=checkbox]):not([type=hidden])';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el) || el.closest('.choice') && el.tagName === 'INPUT') continue;
    const height = el.getBoundingClientRect().height;
    if (height < 47.5) problems.push(`tap target only ${Math.round(height)} px tall: ${say(el)}`);
  }
  for (const el of document.querySelectorAll('input[type=file]')) {
    const r = el.getBoundingClientRect();
    if (r.width > 2 && r.height > 2 && getComputedStyle(el).visibility !== 'hidden') problems.push(`a bare file input (the browser's English "Choose File"): ${say(el)}`);
  }
  const words = [document.body.innerText];
  for (const el of document.querySelectorAll('input, textarea')) {
    if (!shown(el)) continue;
    words.push(el.placeholder || '');
    if (!['date', 'time', 'hidden', 'file'].includes(el.type)) words.push(el.value || '');
  }
  for (const el of document.querySelectorAll('select')) if (shown(el)) words.push(...[...el.options].map((o) => o.text));
  return { problems, words: words.join('\n') };
}
