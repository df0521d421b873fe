// Copies the pinned front-end packages' built files into static/vendor/,
// where Django's staticfiles and whitenoise serve them. Nothing is loaded
// from a CDN: the pages work offline.
import { copyFileSync, cpSync, mkdirSync } from "node:fs";
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
  // The figures' deep-zoom viewer (curation/views/figures.py), and its map for
  // the same reason as Chart.js's.
  ["openseadragon/build/openseadragon/openseadragon.min.js", "openseadragon.min.js"],
  ["openseadragon/build/openseadragon/openseadragon.min.js.map", "openseadragon.min.js.map"],
];
for (const [from, to] of files) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
  console.log(`static/vendor/${to} <- ${from}`);
}
// OpenSeadragon's button images (its prefixUrl).
cpSync(
  join(root, "node_modules", "openseadragon/build/openseadragon/images"),
  join(out, "openseadragon-images"),
  { recursive: true },
);
console.log("static/vendor/openseadragon-images/ <- openseadragon/build/openseadragon/images");
