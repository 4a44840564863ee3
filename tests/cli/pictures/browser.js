// Drives headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on fd 3, replies on fd 4, NUL-separated
// JSON), so the tests need Node.js and Chromium but no npm package.
//
//   node browser.js flame SVG PNG    checks the flame graph viewer (see flameChecks)
//   node browser.js shot FILE PNG W H    screenshot of any page
//
// Exit 0 when every check passed, 1 otherwise (each failure is printed).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

class Browser {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-chromium-'));
    this.proc = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-extensions', '--mute-audio', '--hide-scrollbars',
      '--user-data-dir=' + this.dir, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.out = this.proc.stdio[3];
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    let buf = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let nul;
      while ((nul = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, nul).toString('utf8'));
        buf = buf.subarray(nul + 1);
        this.dispatch(msg);
      }
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
  }

  dispatch(msg) {
    if (msg.id !== undefined && this.pending.has(msg.id)) {
      const { resolve, reject, method } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) reject(new Error(method + ': ' + msg.error.message));
      else resolve(msg.result);
      return;
    }
    for (const l of this.listeners.slice()) l(msg);
  }

  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    this.out.write(JSON.stringify(msg) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  // 60 s: chromium on a loaded machine (CI) may take tens of seconds to start
  // and load a page; a real failure to answer still ends here.
  waitFor(pred, what, ms = 60000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { done(); reject(new Error('timed out waiting for ' + what)); }, ms);
      const l = (msg) => { if (pred(msg)) { done(); resolve(msg); } };
      const done = () => { clearTimeout(t); this.listeners = this.listeners.filter((x) => x !== l); };
      this.listeners.push(l);
    });
  }

  // Opens url in a new tab; collects script errors in this.errors.
  async open(url, width, height) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    this.session = sessionId;
    this.errors = [];
    this.listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.exceptionThrown') {
        const d = m.params.exceptionDetails;
        this.errors.push('exception: ' + (d.exception && d.exception.description || d.text));
      } else if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error') {
        this.errors.push('console.error: ' + m.params.args.map((a) => a.value).join(' '));
      } else if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') {
        this.errors.push('log: ' + m.params.entry.text);
      }
    });
    const s = (meth, p) => this.send(meth, p, sessionId);
    await s('Runtime.enable');
    await s('Page.enable');
    await s('Log.enable');
    await s('Emulation.setDeviceMetricsOverride',
      { width, height, deviceScaleFactor: 1, mobile: false });
    const loaded = this.waitFor((m) => m.sessionId === sessionId && m.method === 'Page.loadEventFired', 'load');
    await s('Page.navigate', { url });
    await loaded;
  }

  cmd(method, params) { return this.send(method, params, this.session); }

  async eval(expr) {
    const r = await this.cmd('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) {
      throw new Error('evaluating ' + expr + ': ' +
        (r.exceptionDetails.exception && r.exceptionDetails.exception.description || r.exceptionDetails.text));
    }
    return r.result.value;
  }

  async screenshot(png) {
    const { data } = await this.cmd('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(png, Buffer.from(data, 'base64'));
  }

  async click(x, y) {
    await this.cmd('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
    await this.cmd('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', clickCount: 1 });
    await this.cmd('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', clickCount: 1 });
  }

  async ctrlKey(key, code, keyCode) {
    const p = { modifiers: 2, key, code, windowsVirtualKeyCode: keyCode };
    await this.cmd('Input.dispatchKeyEvent', Object.assign({ type: 'rawKeyDown' }, p));
    await this.cmd('Input.dispatchKeyEvent', Object.assign({ type: 'keyUp' }, p));
  }

  async close() {
    try { await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]); } catch (e) { /* gone */ }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let failures = 0;
function check(ok, what, got) {
  if (ok) console.log('ok   ' + what);
  else { failures++; console.log('FAIL ' + what + (got === undefined ? '' : ' (got ' + JSON.stringify(got) + ')')); }
}

// Centre of the frame whose function name is name, in page coordinates.
function frameCentre(b, name) {
  return b.eval(`(function () {
    var gs = document.getElementById('frames').children;
    for (var i = 0; i < gs.length; i++) {
      var t = gs[i].getElementsByTagName('title')[0].textContent;
      if (t.indexOf(${JSON.stringify(name)} + ' (') === 0) {
        var r = gs[i].getElementsByTagName('rect')[0].getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      }
    }
    return null; })()`);
}

const HILITE = 'rgb(230,0,230)';
const countHilite = `Array.prototype.filter.call(document.querySelectorAll('#frames rect'),
  function (r) { return r.getAttribute('fill') === '${HILITE}'; }).length`;
const hiliteNames = `Array.prototype.filter.call(document.querySelectorAll('#frames > g'),
  function (g) { return g.querySelector('rect').getAttribute('fill') === '${HILITE}'; })
  .map(function (g) { return g.querySelector('title').textContent.replace(/ \\(.*$/, ''); }).join(',')`;

// Expectations match tests/cli/pictures/browser.txt.
async function flameChecks(b, svg, png) {
  await b.open('file://' + path.resolve(svg), 1200, 300);
  check(await b.eval('typeof window.fg_search') === 'function', 'init(evt) ran: fg_search is exposed');
  check(await b.eval("document.querySelectorAll('#frames > g').length") === 7, '7 frames drawn',
    await b.eval("document.querySelectorAll('#frames > g').length"));

  // Search through the test hook.
  let hits = await b.eval("fg_search('alloc')");
  check(hits === 2, "fg_search('alloc') matches 2 frames", hits);
  check(await b.eval(countHilite) === 2, 'two rects filled ' + HILITE, await b.eval(countHilite));
  check(await b.eval(hiliteNames) === 'xmalloc,calloc', 'highlighted frames are xmalloc and calloc',
    await b.eval(hiliteNames));
  let m = await b.eval("document.getElementById('matched').textContent");
  check(m === 'Matched: 75.0%', "'Matched: 75.0%' shown", m);
  await b.screenshot(png);

  // Case: no match until Ctrl-I (a real key event) turns on ignore-case.
  hits = await b.eval("fg_search('XMALLOC')");
  check(hits === 0, "'XMALLOC' matches nothing case-sensitively", hits);
  await b.ctrlKey('i', 'KeyI', 73);
  check(await b.eval("document.getElementById('ignorecase').getAttribute('class')") === 'show',
    'Ctrl-I marks "ic" as on');
  check(await b.eval(hiliteNames) === 'xmalloc', 'after Ctrl-I the search is re-run: xmalloc',
    await b.eval(hiliteNames));
  await b.ctrlKey('i', 'KeyI', 73);
  await b.eval('fg_reset_search()');
  check(await b.eval(countHilite) === 0, 'reset search restores colours', await b.eval(countHilite));

  // Ctrl-F opens a prompt; answer it like a user.
  const dialog = b.waitFor((x) => x.method === 'Page.javascriptDialogOpening', 'search prompt');
  // The key event's reply comes only once the prompt is closed: don't wait for it first.
  const keys = b.ctrlKey('f', 'KeyF', 70);
  const d = await dialog;
  check(d.params.type === 'prompt', 'Ctrl-F opens a prompt', d.params.type);
  await b.cmd('Page.handleJavaScriptDialog', { accept: true, promptText: '^parse' });
  await keys;
  check(await b.eval(hiliteNames) === 'parse_config', "prompt '^parse' highlights parse_config",
    await b.eval(hiliteNames));
  m = await b.eval("document.getElementById('matched').textContent");
  check(m === 'Matched: 50.0%', "'Matched: 50.0%' shown", m);
  await b.eval('fg_reset_search()');

  // Hover shows the details line.
  const xm = await frameCentre(b, 'xmalloc');
  await b.cmd('Input.dispatchMouseEvent', { type: 'mouseMoved', x: xm.x, y: xm.y });
  const det = await b.eval("document.getElementById('details').textContent");
  check(det === 'Function: xmalloc (2,000 bytes, 50.00%)', 'hover shows details', det);

  // Click zooms: the frame fills the width, ancestors dimmed, others hidden.
  const pc = await frameCentre(b, 'parse_config');
  await b.click(pc.x, pc.y);
  const attr = (name, a) => b.eval(`(function () { var gs = document.getElementById('frames').children;
    for (var i = 0; i < gs.length; i++) if (gs[i].querySelector('title').textContent.indexOf(${JSON.stringify(name)} + ' (') === 0)
      return ${a === 'class' ? "gs[i].getAttribute('class')" : "gs[i].querySelector('rect').getAttribute('" + a + "')"};
    return 'missing'; })()`);
  check(await attr('parse_config', 'width') === '1180.00', 'zoomed frame is 1180 px wide', await attr('parse_config', 'width'));
  check(await attr('xmalloc', 'width') === '1180.00', 'its only child is rescaled to 1180 px', await attr('xmalloc', 'width'));
  check(await attr('main', 'class') === 'parent', 'ancestor main is dimmed (class parent)', await attr('main', 'class'));
  check(await attr('main', 'width') === '1180.00', 'ancestor main spans the width', await attr('main', 'width'));
  check(await attr('run', 'class') === 'hide', 'unrelated frame run is hidden', await attr('run', 'class'));
  check(await b.eval("document.getElementById('unzoom').getAttribute('class')") === null, '"Reset Zoom" is shown');
  const label = await b.eval(`(function () { var gs = document.getElementById('frames').children;
    for (var i = 0; i < gs.length; i++) if (gs[i].querySelector('title').textContent.indexOf('parse_config (') === 0)
      return gs[i].querySelector('text').textContent; })()`);
  check(label === 'parse_config', 'label re-fitted to the full name', label);
  await b.screenshot(png.replace(/\.png$/, '') + '-zoom.png');

  const uz = await b.eval("(function () { var r = document.getElementById('unzoom').getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()");
  await b.click(uz.x, uz.y);
  check(await attr('parse_config', 'width') === '590.00', 'Reset Zoom restores widths', await attr('parse_config', 'width'));
  check(await attr('run', 'class') === null, 'Reset Zoom shows hidden frames', await attr('run', 'class'));

  check(b.errors.length === 0, 'no script errors', b.errors);
}

async function main() {
  const [mode, file, png, w, h] = process.argv.slice(2);
  const b = new Browser();
  const kill = setTimeout(() => { console.log('FAIL timed out'); b.proc.kill('SIGKILL'); process.exit(1); }, 300000);
  try {
    if (mode === 'flame') {
      await flameChecks(b, file, png);
    } else if (mode === 'shot') {
      await b.open('file://' + path.resolve(file), Number(w) || 1200, Number(h) || 800);
      if (await b.eval("typeof window.fg_search === 'function'")) {
        // A flame graph: search, zoom and unzoom must work (their time is
        // printed, not asserted: no wall-clock limits in tests).
        const r = await b.eval(`(function () { var t0 = Date.now();
          var hits = fg_search('.'); var m = fg_matched();
          var gs = document.querySelectorAll('#frames > g'), z = -1, zw = Infinity, i;
          for (i = 0; i < gs.length; i++) {
            var w = parseFloat(gs[i].querySelector('rect').getAttribute('width'));
            if (w < zw) { zw = w; z = i; }
          }
          var zoomedw = null;
          if (z >= 0) { fg_zoom(z); zoomedw = gs[z].querySelector('rect').getAttribute('width'); }
          var hidden = document.querySelectorAll('#frames > g.hide').length;
          fg_unzoom(); fg_reset_search();
          return { hits: hits, matched: m, hidden: hidden, ms: Date.now() - t0, frames: gs.length,
                   zoomedw: zoomedw,
                   full: (parseFloat(document.documentElement.getAttribute('width')) - 20).toFixed(2) }; })()`);
        console.log('     ' + JSON.stringify(r));
        check(r.hits === r.frames && Math.abs(r.matched - (r.frames ? 100 : 0)) < 1e-9,
          "search '.' matches every frame, 100% (0% when empty)", r);
        check(r.frames === 0 || r.zoomedw === r.full, 'zooming into the narrowest frame widens it to the full width', r);
      }
      await b.screenshot(png);
      check(b.errors.length === 0, 'no script errors', b.errors);
    } else {
      console.log('usage: browser.js flame SVG PNG | shot FILE PNG [W H]');
      process.exitCode = 2;
    }
  } catch (e) {
    failures++;
    console.log('FAIL ' + e.message);
    if (b.stderr) console.log('chromium stderr:\n' + b.stderr.slice(-2000));
  }
  await b.close();
  clearTimeout(kill);
  if (failures) {
    console.log(failures + ' check(s) failed');
    process.exitCode = 1;
  }
}

main();
