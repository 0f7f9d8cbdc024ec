// Loads a report.html in headless Chromium and prints, as one JSON line, what a reader would
// have got: console errors and page errors, any request that left the file (there must be
// none), for each chart the data points it holds and the pixels its series inked, the verdict
// text, and a full-page screenshot at the given path.
// Usage: node check-report.mjs REPORT.html SCREENSHOT.png
// Env: BROWSER_TOOLS (where scripts/browser-tools installed playwright-core), CHROMIUM.
import { fileAndScreenshot, openPage } from "./page.mjs";

const [report, screenshot] = fileAndScreenshot("node check-report.mjs REPORT.html SCREENSHOT.png");
const seen = await openPage(report, screenshot, async (page) => {
  await page.waitForFunction(() => window.chaosReport && window.chaosReport.ready, null, { timeout: 15000 });
  const charts = await page.evaluate(() => window.chaosReport.charts.map((chart) => {
    const u = chart.plot;
    let points = 0;
    for (let s = 1; s < u.data.length; s++) {
      for (const v of u.data[s]) if (v != null && Number.isFinite(v)) points++;
    }
    // Series are drawn opaque; grid lines, phase shading and reference lines are faint. So
    // pixels near-opaque inside the plotting area are the data's ink.
    const { left, top, width, height } = u.bbox;
    const pixels = u.ctx.getImageData(left, top, width, height).data;
    let ink = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 200) ink++;
    return { id: chart.id, title: chart.title, series: u.series.length - 1, points, ink };
  }));
  const verdict = (await page.textContent("#verdict")).trim();
  const verdictAttribute = await page.getAttribute("#verdict", "data-verdict");
  return { charts, verdict, verdict_attribute: verdictAttribute };
});
console.log(JSON.stringify(seen));
