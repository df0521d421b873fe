// Copies the pinned front-end packages' built files into static/vendor/,
// where Django's staticfiles and whitenoise serve them. Nothing is loaded
// from a CDN: the pages work offline.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "static", "vendor");
mkdirSync(out, { recursive: true });

const files = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["chart.js/dist/chart.umd.min.js", "chart.umd.min.js"],
  // chart.umd.min.js ends with a sourceMappingURL comment; without the map,
  // collectstatic with DEBUG off (CompressedManifestStaticFilesStorage) fails.
  ["chart.js/dist/chart.umd.min.js.map", "chart.umd.min.js.map"],
];
for (const [from, to] of files) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
  console.log(`static/vendor/${to} <- ${from}`);
}
