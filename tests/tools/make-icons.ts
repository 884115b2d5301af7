/**
 * Makes the app's PNG icons from one SVG, in headless Chromium, so the icons
 * need no image library. Run once after changing the drawing and commit the
 * PNGs: `npx tsx tests/tools/make-icons.ts`.
 *
 * The maskable icon is drawn edge to edge with the mark inside the central
 * 80% circle, the safe zone a launcher keeps whatever shape it cuts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../../playwright.config.ts';

const TEAL = '#0f766e';
const MARK =
  '<g fill="#fff"><circle cx="20" cy="22" r="6"/><circle cx="44" cy="22" r="6"/><circle cx="32" cy="44" r="6"/></g>' +
  '<g stroke="#fff" stroke-width="3"><line x1="20" y1="22" x2="44" y2="22"/><line x1="20" y1="22" x2="32" y2="44"/><line x1="44" y1="22" x2="32" y2="44"/></g>';

/** The rounded tile, as favicon.svg draws it. */
const ANY = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="${TEAL}"/>${MARK}</svg>`;
/** Full-bleed square; the mark scaled to 70% about the centre so it stays within the safe zone. */
const MASKABLE = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="${TEAL}"/><g transform="translate(32 33) scale(0.7) translate(-32 -33)">${MARK}</g></svg>`;

const OUT = join(import.meta.dirname, '..', '..', 'public', 'icons');
const ICONS: { file: string; svg: string; size: number }[] = [
  { file: 'icon-192.png', svg: ANY, size: 192 },
  { file: 'icon-512.png', svg: ANY, size: 512 },
  { file: 'maskable-512.png', svg: MASKABLE, size: 512 },
  // iOS rounds the corners itself and shows transparency as black: full bleed.
  { file: 'apple-touch-icon.png', svg: MASKABLE, size: 180 },
];

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  for (const { file, svg, size } of ICONS) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const html = `<body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body>`;
    await page.setContent(html);
    writeFileSync(join(OUT, file), await page.screenshot({ omitBackground: true }));
    await page.close();
  }
  writeFileSync(join(OUT, 'icon.svg'), `${ANY}\n`);
  console.log(`wrote ${ICONS.map((i) => i.file).join(', ')} and icon.svg to ${OUT}`);
} finally {
  await browser.close();
}
