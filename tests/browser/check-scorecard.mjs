// Loads a scorecard.html in headless Chromium and prints, as one JSON line, what a reader would
// have got: console errors and page errors, any request that left the file (there must be
// none), the overall grade shown, and for each dimension's row its id, grade, the size its
// chart was laid out at and the points of its lines, and its report link; and a full-page
// screenshot at the given path.
// Usage: node check-scorecard.mjs SCORECARD.html SCREENSHOT.png
// Env: BROWSER_TOOLS (where scripts/browser-tools installed playwright-core), CHROMIUM.
import { fileAndScreenshot, openPage } from "./page.mjs";

const [card, screenshot] = fileAndScreenshot("node check-scorecard.mjs SCORECARD.html SCREENSHOT.png");
const seen = await openPage(card, screenshot, async (page) => {
  const overall = (await page.textContent("h1 span")).trim();
  const rows = await page.$$eval("tr[data-dimension]", (rows) => rows.map((row) => {
    const chart = row.querySelector("svg");
    const box = chart ? chart.getBoundingClientRect() : { width: 0, height: 0 };
    const points = [...row.querySelectorAll("svg polyline")]
      .map((line) => line.points.numberOfItems);
    const link = row.querySelector("a");
    return {
      id: row.dataset.dimension,
      grade: row.querySelector("td.g").textContent.trim(),
      shown: row.getBoundingClientRect().height > 0,
      chart: { width: box.width, height: box.height, points },
      report: link ? link.getAttribute("href") : null,
    };
  }));
  return { overall, rows };
});
console.log(JSON.stringify(seen));
