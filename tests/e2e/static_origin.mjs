// html/ served by a separate static server, the API on another port of the
// same host: the page finds the API through ?api=, logs in across the two
// origins, and shows the user's sessions.
//   node static_origin.mjs PAGE_URL API_ORIGIN USER PASSWORD
// Prints one JSON line with what it saw; exits non-zero on failure.
import { chromium } from "playwright-core";

const [pageUrl, apiOrigin, user, password] = process.argv.slice(2);
const seen = { ok: false, api_requests: 0, page_origin_rpc: 0, errors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(30000);
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.origin === apiOrigin && u.pathname.startsWith("/rpc/")) seen.api_requests++;
    else if (u.pathname.startsWith("/rpc/")) seen.page_origin_rpc++;
  });
  await page.goto(pageUrl);
  await page.waitForSelector("form.login");
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("form.login button[type=submit]");
  await page.waitForSelector("form.new");
  seen.flash = await page.evaluate(() => document.getElementById("flash").hidden ? null : document.getElementById("flash").textContent);
  seen.ok = true;
} catch (e) {
  seen.errors.push(String(e));
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
  process.exit(seen.ok ? 0 : 1);
}
