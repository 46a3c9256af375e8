// Drives pg_shell's web page in headless Firefox ESR through WebDriver
// (selenium-webdriver and geckodriver), as a person would:
//   FIREFOX=/usr/bin/firefox-esr GECKODRIVER=/path/geckodriver \
//   node firefox.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR
// Prints one JSON line with what it saw; exits non-zero on the first failure.
// Run by tests/it/browser_firefox.rs against `pg_shell serve`.
//
// Content-Security-Policy violations: a WebDriver BiDi preload script
// (script.addPreloadScript) installs a `securitypolicyviolation` listener in
// every document before the page's own scripts run (Playwright's
// addInitScript, in Firefox); geckodriver has no console-log endpoint, so
// console errors and uncaught exceptions come from BiDi's log.entryAdded.
// A probe at the end shows the listener works: an inline script injected on
// purpose must be blocked and reported.
import { Builder, By, Key, until } from "selenium-webdriver";
import firefox from "selenium-webdriver/firefox.js";
import ScriptManager from "selenium-webdriver/bidi/scriptManager.js";
import LogInspector from "selenium-webdriver/bidi/logInspector.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [base, user, password, shots] = process.argv.slice(2);
if (!shots) {
  console.error("usage: node firefox.mjs BASE_URL USER PASSWORD SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const firefoxPath = process.env.FIREFOX || "/usr/bin/firefox-esr";
const geckodriverPath = process.env.GECKODRIVER || process.exit(2);
const fail = (msg) => { throw new Error(msg); };
const seen = { outputs: {}, screenshots: [], csp: [], console_errors: [], figures: {} };

const options = new firefox.Options()
  .setBinary(firefoxPath)
  .addArguments("-headless")
  .windowSize({ width: 1100, height: 760 })
  .enableBidi();
// No network traffic of the browser's own (updates, telemetry, safe browsing).
for (const [k, v] of Object.entries({
  "app.update.enabled": false, "browser.shell.checkDefaultBrowser": false, "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false, "browser.safebrowsing.malware.enabled": false, "browser.safebrowsing.phishing.enabled": false,
  "network.captive-portal-service.enabled": false, "network.connectivity-service.enabled": false,
})) options.setPreference(k, v);
// The driver is named explicitly: selenium-manager is never asked to find or fetch one.
const service = new firefox.ServiceBuilder(geckodriverPath);
const t0 = Date.now();
const driver = await new Builder().forBrowser("firefox").setFirefoxOptions(options).setFirefoxService(service).build();
seen.figures.browser_start_ms = Date.now() - t0;
try {
  const caps = await driver.getCapabilities();
  seen.browser = { name: caps.getBrowserName(), version: caps.getBrowserVersion() };
  await driver.manage().setTimeouts({ script: 30000 });

  // Before any page loads: the CSP listener in every document, and the console.
  const scripts = await ScriptManager([], driver);
  await scripts.addPreloadScript(`() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " (" + (e.sourceFile || "") + ":" + (e.lineNumber || "") + ")");
    });
  }`);
  // Console messages and uncaught errors (BiDi log.entryAdded, both types).
  // While the probe below runs, CSP messages are its own and set aside.
  let probing = false;
  const probeConsole = [];
  const logs = await LogInspector(driver);
  await logs.onLog((entry) => {
    const text = `${entry.type} ${entry.level}: ${entry.text}`;
    if (/Content.Security.Policy/i.test(entry.text)) (probing ? probeConsole : seen.csp).push(text);
    else if (entry.level === "error") seen.console_errors.push(text);
  });

  const $ = (css) => driver.findElement(By.css(css));
  const waitFor = (css, ms = 30000) => driver.wait(until.elementLocated(By.css(css)), ms, `waiting for ${css}`);
  const js = (fn, ...args) => driver.executeScript(`return (${fn}).apply(null, arguments)`, ...args);
  const waitJs = (fn, args, ms, what) => driver.wait(() => js(fn, ...args), ms, what);
  const fill = async (css, text) => { const el = await $(css); await el.clear(); await el.sendKeys(text); return el; };
  const button = (scope, text) => driver.findElement(By.xpath(`${scope}//button[normalize-space()='${text}']`));
  const shot = async (name) => {
    const path = join(shots, `ff-${name}`);
    writeFileSync(path, Buffer.from(await driver.takeScreenshot(), "base64"));
    seen.screenshots.push(path);
  };
  const cspCheck = async (when) => {
    const found = (await js(() => window.__csp || null)) ?? fail(`no CSP listener in the page ${when}: the preload script did not run`);
    seen.csp.push(...found.map((v) => `${when}: ${v}`));
    if (seen.csp.length) fail(`Content-Security-Policy violations: ${JSON.stringify(seen.csp)}`);
  };

  // Log in (a wrong password first: the form says so and stays).
  await driver.get(base);
  await waitFor("form.login");
  await fill("input[name=username]", user);
  await fill("input[name=password]", "not the password");
  await $("form.login button[type=submit]").click();
  const error = await waitFor("form.login .error");
  await driver.wait(until.elementIsVisible(error), 10000);
  seen.login_error = await error.getText();
  await shot("01-login-failed.png");
  await fill("input[name=password]", password);
  await $("form.login button[type=submit]").click();
  await waitFor("form.new");
  await cspCheck("after log-in");
  const cookie = (await driver.manage().getCookie("pgshell_session")) || fail("no session cookie");
  if (!cookie.httpOnly || cookie.sameSite !== "Strict") fail(`cookie attributes: ${JSON.stringify(cookie)}`);

  // A new session; each command's output checked as it appears.
  await fill("form.new input[name=title]", "firefox session");
  await $("form.new button[type=submit]").click();
  await waitFor("#line");
  const count = () => js(() => document.querySelectorAll("#cmds article.cmd").length);
  const cmd = (n) => js((n) => {
    const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
    return c && { line: c.querySelector(".text").textContent, out: c.querySelector("pre.out")?.textContent ?? "",
                  meta: c.querySelector(".meta")?.textContent ?? "", classes: c.className };
  }, n);
  const enter = async (line) => {
    const n = (await count()) + 1;
    const el = await fill("#line", line);
    await el.sendKeys(Key.ENTER);
    return n;
  };
  const enterAndWait = async (line, state = "st-done") => {
    const t = Date.now();
    const n = await enter(line);
    await waitJs((n, state) => document.querySelectorAll("#cmds article.cmd")[n - 1]?.classList.contains(state) || false,
                 [n, state], 60000, `${line}: ${state}`);
    return { n, ms: Date.now() - t };
  };
  for (const [line, expected] of [["echo hi", "hi\n"], ["mkdir d", ""], ["cd d", ""], ["pwd", "/d\n"]]) {
    const { n, ms } = await enterAndWait(line);
    const got = await cmd(n);
    seen.outputs[line] = got.out;
    if (line === "echo hi") seen.figures.echo_hi_enter_to_result_ms = ms;
    if (got.line !== line) fail(`command ${n} shows line ${JSON.stringify(got.line)}`);
    if (got.out !== expected) fail(`${line}: expected ${JSON.stringify(expected)}, page shows ${JSON.stringify(got)}`);
    if (!/exit 0/.test(got.meta)) fail(`${line}: ${got.meta}`);
  }
  // The prompt follows cd; Up recalls the last line.
  await driver.wait(async () => (await js(() => document.getElementById("cwd")?.textContent)) === "/d", 10000, "the prompt shows /d");
  seen.prompt = await js(() => document.getElementById("cwd").textContent);
  await (await $("#line")).sendKeys(Key.ARROW_UP);
  seen.recalled = await js(() => document.getElementById("line").value);
  if (seen.recalled !== "pwd") fail(`ArrowUp recalls ${JSON.stringify(seen.recalled)}`);
  await (await $("#line")).sendKeys(Key.ARROW_DOWN);

  // Colours render as spans with classes; an escape sequence cannot make markup.
  const col = await enterAndWait("printf '\\033[1;31mred\\033[0m plain \\033[32m<img src=x id=pwn>\\033[0m\\n'");
  seen.colours = await js((n) => {
    const pre = document.querySelectorAll("#cmds article.cmd")[n - 1].querySelector("pre.out");
    return { text: pre.textContent, red: pre.querySelector("span.a-b.a-fg1")?.textContent ?? null,
             green: pre.querySelector("span.a-fg2")?.textContent ?? null, img: !!document.getElementById("pwn"),
             style: pre.querySelector("[style]") !== null };
  }, col.n);
  const c = seen.colours;
  if (c.red !== "red" || c.green !== "<img src=x id=pwn>" || c.img || c.style || c.text !== "red plain <img src=x id=pwn>\n")
    fail(`colours: ${JSON.stringify(c)}`);
  await shot("02-terminal.png");
  await cspCheck("in the terminal");

  // A long-running command shows its output while it runs, with a cancel button.
  let n = await (async () => {
    const t = Date.now();
    const n = await enter("echo start; sleep 1; echo later; sleep 1.5; echo end");
    await waitJs((n) => {
      const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
      return !!c && c.classList.contains("st-running") && /later/.test(c.querySelector("pre.live")?.textContent || "");
    }, [n], 60000, "live output");
    // "later" comes 1 s (a real sleep) after the line starts: the rest is the
    // live output's delay (an upper bound: it includes the queue and the start).
    seen.figures.live_output_delay_ms_upper_bound = Date.now() - t - 1000;
    return n;
  })();
  seen.live = await js((n) => {
    const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
    return { out: c.querySelector("pre.live").textContent, running: c.classList.contains("st-running"),
             elapsed: c.querySelector(".elapsed")?.textContent ?? null, cancel: !!c.querySelector("button.cancel") };
  }, n);
  if (!seen.live.running || seen.live.out.includes("end") || !seen.live.cancel) fail(`live output: ${JSON.stringify(seen.live)}`);
  await shot("03-running.png");
  await waitJs((n) => document.querySelectorAll("#cmds article.cmd")[n - 1].classList.contains("st-done"), [n], 60000, "the live command ends");
  seen.live_final = (await cmd(n)).out;
  if (seen.live_final !== "start\nlater\nend\n") fail(`final output ${JSON.stringify(seen.live_final)}`);

  // Cancel a running command from the page.
  n = await enter("sleep 30");
  const cancel = await waitFor(`#cmds article.cmd:nth-of-type(${n}).st-running button.cancel`, 60000);
  await cancel.click();
  await waitFor(`#cmds article.cmd:nth-of-type(${n}).st-cancelled`, 30000);
  seen.cancelled = true;

  // The session has its own URL: a reload lands on it.
  seen.session = await $("#term").getAttribute("data-session");
  const url = await driver.getCurrentUrl();
  if (new URL(url).searchParams.get("session") !== seen.session) fail(`the URL ${url} does not name session ${seen.session}`);
  await driver.navigate().refresh();
  await waitFor(`#term[data-session="${seen.session}"] #line`);
  seen.reloaded_url = await driver.getCurrentUrl();
  seen.reloaded_on_session = new URL(seen.reloaded_url).searchParams.get("session") === seen.session
    && (await js(() => document.querySelectorAll("#cmds article.cmd").length)) === n;
  if (!seen.reloaded_on_session) fail(`after the reload: ${seen.reloaded_url}`);
  await shot("04-reloaded.png");
  await cspCheck("after the reload");

  // The probe: the gateway's CSP has no 'unsafe-inline', so an injected
  // inline script must not run, and the listener must report it.
  probing = true;
  seen.csp_probe = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    const before = window.__csp.length;
    const s = document.createElement("script");
    s.textContent = "window.__probe_ran = true";
    document.head.appendChild(s);
    setTimeout(() => {
      const found = window.__csp.splice(before);
      done({ caught: found.some((v) => /^script-src/.test(v)), ran: window.__probe_ran === true, reported: found });
    }, 500);`);
  // Firefox also logs the violation to the console (a BiDi log entry): the
  // second channel above is live too. It may arrive after the DOM event.
  for (const until = Date.now() + 3000; !probeConsole.length && Date.now() < until;) await driver.sleep(50);
  probing = false;
  seen.csp_probe.console = probeConsole;
  if (!seen.csp_probe.caught || seen.csp_probe.ran || !probeConsole.length) fail(`CSP probe: ${JSON.stringify(seen.csp_probe)}`);

  // Log out: back to the form, cookie gone.
  await button("//nav[contains(@class,'top')]", "log out").click();
  await waitFor("form.login");
  seen.logged_out = !(await driver.manage().getCookies()).some((c) => c.name === "pgshell_session" && c.value);
  if (!seen.logged_out) fail("cookie survived log-out");
  await cspCheck("at the end");
  if (seen.console_errors.length) fail(`console errors: ${JSON.stringify(seen.console_errors)}`);
  console.log(JSON.stringify({ ok: true, ...seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String((e && e.stack) || e), ...seen }));
  process.exitCode = 1;
} finally {
  await driver.quit();
}
