// Drives pg_shell's web page in headless Chromium, as a person would:
//   node shell.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR
// Prints one JSON line with what it saw; exits non-zero on the first failure.
// Run by tests/it/browser.rs against `pg_shell serve`.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, user, password, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node shell.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const fail = (msg) => { throw new Error(msg); };
const seen = { outputs: {}, replay: null, screenshots: [], csp: [], console_errors: [] };

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
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", "not the password");
  await page.click("form.login button[type=submit]");
  await page.waitForSelector("form.login .error");
  await shot("01-login-failed.png");
  await page.fill("input[name=password]", password);
  await page.click("form.login button[type=submit]");
  await page.waitForSelector("form.new");
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
  await cspCheck("in the terminal");

  // Replay the session from the page: the verdict replaces the pending note.
  if (!(await page.$("button:text-is('replay')"))) fail("the session page has no replay button");
  await page.click("button:text-is('replay')");
  await page.waitForSelector("#replay .replay:not(.pending)", { timeout: 120000 });
  seen.replay = (await page.textContent("#replay .replay")).trim();
  await shot("03-replayed.png", { fullPage: true });

  // A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("04-phone.png", { fullPage: true });
  await page.setViewportSize({ width: 1100, height: 760 });

  // A reload keeps the log-in (the cookie); the list shows the session.
  await page.reload();
  await page.waitForSelector("section.sessions");
  const listed = await page.textContent("section.sessions");
  if (!listed.includes("browser <b>test</b>")) fail("the session list lacks the new session");
  await shot("05-sessions.png");

  // Log out: back to the form, cookie gone.
  await page.click("nav.top button:text-is('log out')");
  await page.waitForSelector("form.login");
  if ((await context.cookies()).some((c) => c.name === "pgshell_session" && c.value)) fail("cookie survived log-out");
  await cspCheck("at the end");
  if (seen.console_errors.length) fail(`console errors: ${JSON.stringify(seen.console_errors)}`);
  console.log(JSON.stringify({ ok: true, ...seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), ...seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
