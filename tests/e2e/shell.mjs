// Drives pg_shell's web page in headless Chromium, as a person would:
//   node shell.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR
// Prints one JSON line with what it saw; exits non-zero on the first failure.
// Run by tests/it/browser.rs against `pg_shell serve`.
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, user, password, shots, auditor] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node shell.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const fail = (msg) => { throw new Error(msg); };
const seen = { outputs: {}, replay: null, screenshots: [], csp: [], console_errors: [], figures: {}, axe: {} };
// Accessibility (issue 11): axe-core on each page a user sees; every serious
// or critical violation goes into seen.axe[name] (empty: none), and any fails
// the run at the end (after all pages are checked, so one run lists them all).
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
const axeCheck = async (pg, name) => {
  if (name in seen.axe) fail(`axe page name ${name} used twice`);
  const result = await new AxeBuilder({ page: pg }).withTags(AXE_TAGS).analyze();
  seen.axe[name] = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, target: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
                   nodes: v.nodes.length, help: v.help, summary: v.nodes[0]?.failureSummary }));
  seen.figures.axe_rules_passed = { ...(seen.figures.axe_rules_passed || {}), [name]: result.passes.length };
};
const axeVerdict = () => {
  const bad = Object.entries(seen.axe).filter(([, v]) => v.length);
  if (bad.length) fail(`accessibility (axe-core) violations: ${JSON.stringify(Object.fromEntries(bad))}`);
};

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 1 });
  // Every Content-Security-Policy violation the page reports (the gateway's CSP
  // has no 'unsafe-inline'): from the DOM event, and from the console.
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile || ""}:${e.lineNumber || ""})`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) seen.csp.push(m.text());
    else if (m.type() === "error" && !/Failed to load resource/.test(m.text())) seen.console_errors.push(m.text());
  });
  page.on("pageerror", (e) => seen.console_errors.push(String(e)));
  const cspCheck = async (when) => {
    const found = await page.evaluate(() => window.__csp || []);
    seen.csp.push(...found.map((v) => `${when}: ${v}`));
    if (seen.csp.length) fail(`Content-Security-Policy violations: ${JSON.stringify(seen.csp)}`);
  };
  const shot = async (name, opts = {}) => {
    const path = join(shots, name);
    await page.screenshot({ path, ...opts });
    seen.screenshots.push(path);
  };

  // Log in (a wrong password first: the form says so and stays).
  await page.goto(base);
  await page.waitForSelector("form.login");
  await axeCheck(page, "login");
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", "not the password");
  await page.click("form.login button[type=submit]");
  await page.waitForSelector("form.login .error");
  await shot("01-login-failed.png");
  await axeCheck(page, "login_error");
  await page.fill("input[name=password]", password);
  await page.click("form.login button[type=submit]");
  await page.waitForSelector("form.new");
  await axeCheck(page, "sessions_empty");
  const csp = (await page.request.get(base)).headers()["content-security-policy"] || fail("no Content-Security-Policy on the page");
  if (/unsafe-inline|unsafe-eval/.test(csp) || !/frame-ancestors 'none'/.test(csp)) fail(`weak CSP: ${csp}`);
  await cspCheck("after log-in");

  const cookie = (await context.cookies()).find((c) => c.name === "pgshell_session") || fail("no session cookie");
  if (!cookie.httpOnly || cookie.sameSite !== "Strict") fail(`cookie attributes: ${JSON.stringify(cookie)}`);
  if ((await page.evaluate(() => document.cookie)).includes("pgshell_session")) fail("page scripts can read the cookie");

  // A new session, then the commands of the issue, each output checked as it appears.
  await page.fill("form.new input[name=title]", "browser <b>test</b>");
  await page.click("form.new button[type=submit]");
  await page.waitForSelector("#line");
  const title = await page.textContent("section.term h2");
  if (title !== "browser <b>test</b>") fail(`title shown as ${JSON.stringify(title)}`);

  const script = [
    ["echo hi", "hi\n"],
    ["mkdir d", ""],
    ["cd d", ""],
    ["pwd", "/d\n"],
    ["ls /", "d\n"],
  ];
  for (const [i, [line, expected]] of script.entries()) {
    await page.fill("#line", line);
    await page.press("#line", "Enter");
    const n = i + 1;
    await page.waitForFunction(
      (n) => {
        const cmds = document.querySelectorAll("#cmds article.cmd");
        return cmds.length === n && cmds[n - 1].classList.contains("st-done");
      },
      n,
      { timeout: 60000, polling: 100 },
    );
    const got = await page.evaluate((n) => {
      const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
      return {
        line: c.querySelector(".text").textContent,
        out: c.querySelector("pre.out")?.textContent ?? "",
        err: c.querySelector("pre.err")?.textContent ?? "",
        meta: c.querySelector(".meta").textContent,
      };
    }, n);
    seen.outputs[line] = got.out;
    if (got.line !== line) fail(`command ${n} shows line ${JSON.stringify(got.line)}`);
    if (got.out !== expected) fail(`${line}: expected ${JSON.stringify(expected)}, page shows ${JSON.stringify(got)}`);
    if (!/exit 0/.test(got.meta)) fail(`${line}: ${got.meta}`);
    if (await page.evaluate(() => document.activeElement?.id) !== "line") fail(`focus left the command line after ${line}`);
  }
  // The prompt follows cd; Up recalls the last line.
  await page.waitForFunction(() => document.getElementById("cwd")?.textContent === "/d");
  await page.press("#line", "ArrowUp");
  if (await page.inputValue("#line") !== "ls /") fail("ArrowUp does not recall the last line");
  await page.press("#line", "ArrowDown");
  await shot("02-terminal.png", { fullPage: true });
  await axeCheck(page, "terminal");
  await cspCheck("in the terminal");

  // Issue 11: the terminal. Enter to result for `echo hi` (figures only, no
  // assertion on time: examples print figures).
  const count = () => page.evaluate(() => document.querySelectorAll("#cmds article.cmd").length);
  const enterAndWait = async (line, state) => {
    const n = (await count()) + 1;
    await page.fill("#line", line);
    const t0 = Date.now();
    await page.press("#line", "Enter");
    await page.waitForFunction(([n, state]) => {
      const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
      return c && c.classList.contains(state);
    }, [n, state], { timeout: 60000, polling: "raf" });
    return { n, ms: Date.now() - t0 };
  };
  const enterTimes = [];
  for (let i = 0; i < 10; i++) enterTimes.push((await enterAndWait("echo hi", "st-done")).ms);
  enterTimes.sort((a, b) => a - b);
  seen.figures.enter_to_result_ms = { median: enterTimes[5], max: enterTimes[9], runs: enterTimes };

  // Colours render as spans with classes; an escape sequence cannot make markup.
  const col = await enterAndWait("printf '\\033[1;31mred\\033[0m plain \\033[32m<img src=x id=pwn>\\033[0m\\n'", "st-done");
  const colours = await page.evaluate((n) => {
    const pre = document.querySelectorAll("#cmds article.cmd")[n - 1].querySelector("pre.out");
    const red = pre.querySelector("span.a-b.a-fg1");
    return { text: pre.textContent, red: red && red.textContent, green: pre.querySelector("span.a-fg2")?.textContent,
             img: !!document.getElementById("pwn"), style: pre.querySelector("[style]") !== null };
  }, col.n);
  seen.colours = colours;
  if (colours.red !== "red" || colours.green !== "<img src=x id=pwn>" || colours.img || colours.style)
    fail(`colours: ${JSON.stringify(colours)}`);
  if (colours.text !== "red plain <img src=x id=pwn>\n") fail(`escape sequences left in the text: ${JSON.stringify(colours.text)}`);

  // The page is a terminal to its guests: its size in characters goes with
  // each line (recorded, so replay sees the same), and programs see a tty.
  const term = await enterAndWait("printenv COLUMNS LINES TERM", "st-done");
  const termOut = await page.evaluate((n) => document.querySelectorAll("#cmds article.cmd")[n - 1].querySelector("pre.out").textContent, term.n);
  const termMatch = /^(\d+)\n(\d+)\nxterm-256color\n$/.exec(termOut) || fail(`the guest sees no terminal: ${JSON.stringify(termOut)}`);
  seen.terminal = { columns: +termMatch[1], lines: +termMatch[2] };
  // At 1100 px the output area holds well over 80 columns of the monospace font.
  if (seen.terminal.columns < 80 || seen.terminal.columns > 200 || seen.terminal.lines < 10) fail(`terminal size ${termOut}`);

  // A long-running command shows its output while it runs, with elapsed time.
  let n = (await count()) + 1;
  await page.fill("#line", "echo start; sleep 1; echo later; sleep 1.5; echo end");
  const t0 = Date.now();
  await page.press("#line", "Enter");
  await page.waitForFunction((n) => {
    const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
    return c && c.classList.contains("st-running") && /later/.test(c.querySelector("pre.live")?.textContent || "");
  }, n, { timeout: 60000, polling: "raf" });
  const tLater = Date.now() - t0;
  const live = await page.evaluate((n) => {
    const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
    return { out: c.querySelector("pre.live").textContent, running: c.classList.contains("st-running"),
             elapsed: c.querySelector(".elapsed")?.textContent, cancel: !!c.querySelector("button.cancel") };
  }, n);
  seen.live = live;
  if (!live.running || live.out.includes("end") || !/^\d+\.\d s$/.test(live.elapsed || "") || !live.cancel)
    fail(`live output: ${JSON.stringify(live)}`);
  // "later" is written 1 s (a real sleep) after the line starts: what is
  // above that is the live output's delay (an upper bound: it includes the
  // queue and the start of the line).
  seen.figures.live_output_delay_ms_upper_bound = tLater - 1000;
  await shot("06-running.png");
  await page.waitForFunction((n) => document.querySelectorAll("#cmds article.cmd")[n - 1].classList.contains("st-done"), n, { timeout: 60000 });
  const final = await page.evaluate((n) => document.querySelectorAll("#cmds article.cmd")[n - 1].querySelector("pre.out").textContent, n);
  if (final !== "start\nlater\nend\n") fail(`final output ${JSON.stringify(final)}`);

  // Cancel a running command from the page.
  n = (await count()) + 1;
  await page.fill("#line", "sleep 30");
  await page.press("#line", "Enter");
  await page.waitForSelector(`#cmds article.cmd:nth-of-type(${n}).st-running button.cancel`);
  await axeCheck(page, "running");
  await page.click(`#cmds article.cmd:nth-of-type(${n}) button.cancel`);
  await page.waitForSelector(`#cmds article.cmd:nth-of-type(${n}).st-cancelled`, { timeout: 30000 });

  // The session has its own URL: a reload lands on it.
  const sid = await page.getAttribute("#term", "data-session");
  if (new URL(page.url()).searchParams.get("session") !== sid) fail(`the URL ${page.url()} does not name session ${sid}`);
  await page.reload();
  await page.waitForSelector(`#term[data-session="${sid}"] #line`);
  seen.reloaded_on_session = true;

  // The asciicast downloads as a .cast file, asciicast v2.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("section.term a:text-is('asciicast')")]);
  if (!/\.cast$/.test(download.suggestedFilename())) fail(`download named ${download.suggestedFilename()}`);
  const castPath = join(shots, "session.cast");
  await download.saveAs(castPath);
  const castResp = await page.request.get(new URL(`rpc/session_cast?session_id=${sid}`, base).toString());
  seen.cast_content_type = castResp.headers()["content-type"];
  if (seen.cast_content_type !== "application/x-asciicast") fail(`asciicast served as ${seen.cast_content_type}`);
  const { readFileSync } = await import("node:fs");
  const castLines = readFileSync(castPath, "utf8").trimEnd().split("\n");
  const head = JSON.parse(castLines[0]);
  if (head.version !== 2 || !(head.width > 0) || !(head.height > 0)) fail(`asciicast header ${castLines[0]}`);
  let last = 0;
  for (const l of castLines.slice(1)) {
    const ev = JSON.parse(l);
    if (!Array.isArray(ev) || ev.length !== 3 || typeof ev[0] !== "number" || ev[0] < last || !["o", "i"].includes(ev[1]) || typeof ev[2] !== "string")
      fail(`asciicast event ${l}`);
    last = ev[0];
  }
  seen.cast_events = castLines.length - 1;
  if (!castLines.some((l) => l.includes("later"))) fail("the asciicast lacks the live command's output");
  await shot("07-terminal.png", { fullPage: true });
  await axeCheck(page, "terminal_colours_cancelled");

  // Replay the session from the page: the verdict replaces the pending note.
  if (!(await page.$("button:text-is('replay')"))) fail("the session page has no replay button");
  await page.click("button:text-is('replay')");
  await page.waitForSelector("#replay .replay:not(.pending)", { timeout: 120000 });
  seen.replay = (await page.textContent("#replay .replay")).trim();
  await shot("03-replayed.png", { fullPage: true });
  await axeCheck(page, "replay");

  // ---- Files (issue 11, the "files" step): upload a file through the page
  // into the working directory (/d), see it with ls and cat, and download a
  // file a command wrote, checking its bytes. Kept after the replay step so
  // the replay's command count is unchanged.
  {
    const upText = "uploaded from the browser\n\u00e9\n";
    const k = (await count()) + 1;
    await page.setInputFiles("#upload-file", { name: "up load.txt", mimeType: "text/plain", buffer: Buffer.from(upText) });
    await page.focus("form.upload button[type=submit]");
    await page.keyboard.press("Enter");
    await page.waitForFunction((k) => document.querySelectorAll("#cmds article.cmd")[k - 1]?.classList.contains("st-done"), k, { timeout: 60000 });
    const upLine = await page.evaluate((k) => document.querySelectorAll("#cmds article.cmd")[k - 1].querySelector(".text").textContent, k);
    const outOf = (k) => page.evaluate((k) => document.querySelectorAll("#cmds article.cmd")[k - 1].querySelector("pre.out")?.textContent ?? "", k);
    const ls = await enterAndWait("ls | cat", "st-done");
    const cat = await enterAndWait("cat 'up load.txt'", "st-done");
    await enterAndWait("printf 'a\\000b\\377' > bin.dat", "st-done");
    await page.fill("#download-path", "bin.dat");
    const [dl] = await Promise.all([page.waitForEvent("download"), page.press("#download-path", "Enter")]);
    const dlPath = join(shots, "bin.dat");
    await dl.saveAs(dlPath);
    const { readFileSync: readBytes } = await import("node:fs");
    seen.files = { upload_line: upLine, ls: await outOf(ls.n), cat: await outOf(cat.n), uploaded: upText,
                   download_name: dl.suggestedFilename(), download_bytes: Array.from(readBytes(dlPath)) };
    if (upLine !== "cat > 'up load.txt'") fail(`upload shown as ${JSON.stringify(upLine)}`);
    if (!seen.files.ls.split("\n").includes("up load.txt")) fail(`ls (not a terminal: one plain name per line) after the upload: ${JSON.stringify(seen.files.ls)}`);
    if (seen.files.cat !== upText) fail(`the uploaded file reads ${JSON.stringify(seen.files.cat)}`);
    if (JSON.stringify(seen.files.download_bytes) !== "[97,0,98,255]") fail(`downloaded ${JSON.stringify(seen.files)}`);
    await shot("10-files.png", { fullPage: true });
    await axeCheck(page, "files");
    await cspCheck("after the file step");
  }
  // ---- end of the files step ----

  // A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("04-phone.png", { fullPage: true });
  await axeCheck(page, "phone_terminal");
  await page.setViewportSize({ width: 1100, height: 760 });

  // A reload keeps the log-in (the cookie) and the session; the list shows it, with its id.
  await page.reload();
  await page.waitForSelector("#term");
  await page.click("nav.top button:text-is('sessions')");
  await page.waitForSelector("section.sessions");
  if (new URL(page.url()).searchParams.get("session")) fail(`the list keeps a session in the URL: ${page.url()}`);
  if (!(await page.$(`section.sessions button[data-copy="${sid}"]`))) fail("the session list shows no copyable id");
  const listed = await page.textContent("section.sessions");
  if (!listed.includes("browser <b>test</b>")) fail("the session list lacks the new session");
  await shot("05-sessions.png");
  await axeCheck(page, "sessions");
  await page.setViewportSize({ width: 390, height: 844 });
  await axeCheck(page, "phone_sessions");
  await page.setViewportSize({ width: 1100, height: 760 });

  // Log out: back to the form, cookie gone.
  await page.click("nav.top button:text-is('log out')");
  await page.waitForSelector("form.login");
  if ((await context.cookies()).some((c) => c.name === "pgshell_session" && c.value)) fail("cookie survived log-out");

  // The auditor's console: sentences, one-line times, the verify button.
  if (auditor) {
    await page.fill("input[name=username]", auditor);
    await page.fill("input[name=password]", password);
    await page.click("form.login button[type=submit]");
    await page.click("nav.top button:text-is('audit log')");
    await page.waitForSelector("section.audit tr.ev");
    await page.click("button:text-is('verify the audit log')");
    await page.waitForSelector("#verify-result .verified, #verify-result .problems");
    seen.verify = (await page.textContent("#verify-result")).trim();
    seen.audit_sample = await page.evaluate(() => Array.from(document.querySelectorAll("section.audit tr.ev")).slice(0, 40).map((r) =>
      [r.querySelector(".actor").textContent, r.querySelector(".what").textContent]));
    // Each timestamp's text lies on one line box.
    const atLines = await page.evaluate(() => Array.from(document.querySelectorAll("section.audit td.at")).map((td) => {
      const r = document.createRange();
      r.selectNodeContents(td);
      return new Set(Array.from(r.getClientRects()).map((b) => Math.round(b.top))).size;
    }));
    seen.at_one_line = atLines.length > 0 && atLines.every((n) => n === 1);
    await shot("08-audit.png");
    await axeCheck(page, "audit");
    await page.setViewportSize({ width: 390, height: 844 });
    await shot("09-audit-phone.png");
    await axeCheck(page, "phone_audit");
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.click("nav.top button:text-is('log out')");
    await page.waitForSelector("form.login");
  }
  // ---- Keyboard only (issue 11): a second browser context, driven by
  // page.keyboard alone (no click, fill or focus): log in, a new session,
  // commands, one recalled with ArrowUp, a running command cancelled (Shift+Tab
  // to its button, and Escape from the command line), the session list and
  // back, log out. After each step the focus is where the user needs it, and
  // visibly so (an outline or a box-shadow on document.activeElement).
  {
    const kctx = await browser.newContext({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 1 });
    const k = await kctx.newPage();
    k.setDefaultTimeout(30000);
    k.on("pageerror", (e) => seen.console_errors.push(`keyboard: ${e}`));
    const kb = { steps: [], keys: 0 };
    seen.keyboard = kb;
    const press = async (key) => { kb.keys++; await k.keyboard.press(key); };
    const type = async (text) => { kb.keys += text.length; await k.keyboard.type(text); };
    const focused = () => k.evaluate(() => {
      const a = document.activeElement;
      if (!a || a === document.body) return { tag: "body" };
      const cs = getComputedStyle(a);
      const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
      return { tag: a.tagName.toLowerCase(), id: a.id || null, name: a.getAttribute("name"),
               text: (a.textContent || "").trim().slice(0, 60), value: a.value ?? null,
               visible: outline || cs.boxShadow !== "none", outline: outline ? `${cs.outlineWidth} ${cs.outlineStyle} ${cs.outlineColor}` : cs.boxShadow };
    });
    // The step's name, what must hold of the focused element, and a check.
    const expectFocus = async (step, ok, what) => {
      let f = await focused();
      for (let i = 0; i < 50 && !ok(f); i++) { await k.waitForTimeout(50); f = await focused(); }
      kb.steps.push({ step, focus: f.id || f.name || `${f.tag}:${f.text}`, visible: f.visible });
      if (!ok(f)) fail(`keyboard, ${step}: the focus is on ${JSON.stringify(f)}, expected ${what}`);
      if (!f.visible) fail(`keyboard, ${step}: no visible focus indicator on ${JSON.stringify(f)}`);
      return f;
    };
    // Tab (or Shift+Tab) until the focus is on what `ok` says: how many presses.
    const tabTo = async (ok, what, back = false, max = 60) => {
      for (let i = 1; i <= max; i++) {
        await press(back ? "Shift+Tab" : "Tab");
        if (ok(await focused())) return i;
      }
      fail(`keyboard: ${max} × ${back ? "Shift+Tab" : "Tab"} did not reach ${what}`);
    };
    const kcount = () => k.evaluate(() => document.querySelectorAll("#cmds article.cmd").length);
    const waitEntry = (n, state) => k.waitForFunction(([n, state]) =>
      document.querySelectorAll("#cmds article.cmd")[n - 1]?.classList.contains(state), [n, state], { timeout: 60000 });
    const run = async (line, expected) => {
      const n = (await kcount()) + 1;
      if (line !== null) await type(line);
      await press("Enter");
      await waitEntry(n, "st-done");
      const got = await k.evaluate((n) => {
        const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
        return { line: c.querySelector(".text").textContent, out: c.querySelector("pre.out")?.textContent ?? "" };
      }, n);
      if (expected !== undefined && got.out !== expected) fail(`keyboard: ${got.line} printed ${JSON.stringify(got.out)}`);
      await expectFocus(`after ${got.line}`, (f) => f.id === "line" && f.value === "", "the empty command line");
      return got;
    };
    const isLine = (f) => f.id === "line";

    await k.goto(base);
    await k.waitForSelector("form.login");
    await expectFocus("log-in form", (f) => f.name === "username", "the user name");
    // The skip link is the first Tab stop of the logged-in page (checked below).
    await type(user);
    await press("Tab");
    await expectFocus("user name typed, Tab", (f) => f.name === "password", "the password");
    await type(password);
    await press("Enter");
    await k.waitForSelector("form.new");
    await expectFocus("logged in", (f) => f.tag === "h2", "the session list's heading");
    await press("Tab");
    await expectFocus("Tab from the heading", (f) => f.name === "title", "the new session's title");
    await type("keyboard only");
    await press("Enter");
    await k.waitForSelector("#line");
    await expectFocus("new session", isLine, "the command line");
    const sid = await k.getAttribute("#term", "data-session");
    kb.outputs = {};
    for (const [line, out] of [["mkdir k", ""], ["cd k", ""], ["echo typed", "typed\n"]]) kb.outputs[line] = (await run(line, out)).out;
    // ArrowUp recalls the last line; Enter runs it again.
    await press("ArrowUp");
    kb.recalled = await k.inputValue("#line");
    if (kb.recalled !== "echo typed") fail(`keyboard: ArrowUp recalled ${JSON.stringify(kb.recalled)}`);
    kb.outputs["echo typed (recalled)"] = (await run(null, "typed\n")).out;
    kb.outputs.pwd = (await run("pwd", "/k\n")).out;
    // A running command: Shift+Tab reaches its cancel button (the last
    // stop before the command line), Enter cancels it, the focus returns.
    let n = (await kcount()) + 1;
    await type("sleep 30");
    await press("Enter");
    await waitEntry(n, "st-running");
    await k.waitForSelector(`#cmds article.cmd:nth-of-type(${n}) button.cancel`);
    kb.shift_tabs_to_cancel = await tabTo((f) => f.tag === "button" && f.text === "cancel", "the cancel button", true, 5);
    await expectFocus("Shift+Tab to cancel", (f) => f.text === "cancel", "the cancel button");
    await press("Enter");
    await waitEntry(n, "st-cancelled");
    await expectFocus("cancelled with the button", isLine, "the command line");
    // Escape on the command line cancels the running command.
    n = (await kcount()) + 1;
    await type("sleep 30");
    await press("Enter");
    await waitEntry(n, "st-running");
    await press("Escape");
    await waitEntry(n, "st-cancelled");
    await expectFocus("cancelled with Escape", isLine, "the command line");
    kb.cancelled = await k.evaluate(() => document.querySelectorAll("#cmds article.cmd.st-cancelled").length);
    await axeCheck(k, "keyboard_session");
    // To the session list (the navigation bar, backwards from the command line) and back.
    kb.shift_tabs_to_sessions = await tabTo((f) => f.tag === "button" && f.text === "sessions", "the sessions button", true);
    await expectFocus("Shift+Tab to sessions", (f) => f.text === "sessions", "the sessions button");
    await press("Enter");
    await k.waitForSelector("section.sessions");
    await expectFocus("session list", (f) => f.tag === "h2", "the session list's heading");
    kb.tabs_to_session_link = await tabTo((f) => f.tag === "a" && f.text === "keyboard only", "the session's link");
    await press("Enter");
    await k.waitForSelector(`#term[data-session="${sid}"]`);
    await expectFocus("back in the session", isLine, "the command line");
    kb.back_commands = await kcount();
    if (kb.back_commands !== 7) fail(`keyboard: back in the session, ${kb.back_commands} commands shown`);
    kb.outputs["echo back"] = (await run("echo back", "back\n")).out;
    // The skip link: the first Tab stop from the top of the page, into the view.
    kb.shift_tabs_to_skip = await tabTo((f) => f.tag === "a" && f.text === "skip to the content", "the skip link", true);
    await press("Enter");
    await expectFocus("skip link", isLine, "the command line");
    // Log out: the navigation bar's last button.
    kb.shift_tabs_to_logout = await tabTo((f) => f.tag === "button" && f.text === "log out", "the log-out button", true);
    await press("Enter");
    await k.waitForSelector("form.login");
    await expectFocus("logged out", (f) => f.name === "username", "the user name");
    if ((await kctx.cookies()).some((c) => c.name === "pgshell_session" && c.value)) fail("keyboard: cookie survived log-out");
    kb.done = true;
    await kctx.close();
  }
  await cspCheck("at the end");
  if (seen.console_errors.length) fail(`console errors: ${JSON.stringify(seen.console_errors)}`);
  axeVerdict();
  console.log(JSON.stringify({ ok: true, ...seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), ...seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
