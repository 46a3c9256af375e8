// Browser figures for examples/web_figures.rs: logs in, opens a session and
// measures, in headless Chromium against `pg_shell serve`,
//   - Enter to result for `echo hi` (the entry shows "done"), N runs;
//   - the delay of live output: `echo start; sleep 1; echo later; ...`
//     writes "later" 1 s (a real sleep) after the line starts; the time from
//     Enter to "later" on the page, minus 1 s (an upper bound: it includes
//     the queue and the start of the line), and when "start" showed.
//   node figures.mjs BASE_URL USER PASSWORD [N]
// Prints one JSON line.
import { chromium } from "playwright-core";

const [base, user, password, nArg] = process.argv.slice(2);
const N = +(nArg || 30);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];
try {
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 760 } })).newPage();
  await page.goto(base);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("form.login button[type=submit]");
  await page.waitForSelector("form.new");
  await page.click("form.new button[type=submit]");
  await page.waitForSelector("#line");
  // Time is taken in the page (performance.now), from the Enter key to the
  // DOM change, observed by a MutationObserver.
  const run = (line, until) => page.evaluate(([line, until]) => new Promise((resolve) => {
    const input = document.getElementById("line");
    const n = document.querySelectorAll("#cmds article.cmd").length + 1;
    const marks = {};
    const t0 = performance.now();
    const check = () => {
      const c = document.querySelectorAll("#cmds article.cmd")[n - 1];
      if (!c) return;
      const text = (c.querySelector("pre.out")?.textContent || "");
      for (const [name, re] of Object.entries(until)) {
        if (!(name in marks) && (name === "done" ? c.classList.contains("st-done") : new RegExp(re).test(text))) marks[name] = performance.now() - t0;
      }
      if ("done" in marks) { obs.disconnect(); resolve(marks); }
    };
    const obs = new MutationObserver(check);
    obs.observe(document.getElementById("cmds"), { childList: true, subtree: true, characterData: true, attributes: true });
    input.value = line;
    input.form.requestSubmit();
  }), [line, until]);
  await run("echo warm", { done: 1 });
  const enter = [];
  for (let i = 0; i < N; i++) enter.push((await run("echo hi", { done: 1 })).done);
  enter.sort((a, b) => a - b);
  const delays = [], starts = [];
  for (let i = 0; i < 5; i++) {
    const m = await run("echo start; sleep 1; echo later; sleep 0.3", { start: "start", later: "later", done: 1 });
    delays.push(m.later - 1000);
    starts.push(m.start);
  }
  delays.sort((a, b) => a - b);
  console.log(JSON.stringify({ ok: true, runs: N, enter_to_result_ms: { median: pct(enter, 0.5), p90: pct(enter, 0.9), max: enter[enter.length - 1] },
    live_delay_ms_upper_bound: { median: pct(delays, 0.5), max: delays[delays.length - 1], runs: delays },
    first_output_after_enter_ms: starts }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
