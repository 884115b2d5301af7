import { cpuMsPerMiB, cpuText, type Target } from './report.ts';
import type { CompareResults } from './webtorrent.ts';

/** The comparison's rows in the bench table (each round's figures side by side); returns its CPU lines. */
export function webtorrentRows(rows: string[][], r: CompareResults): string[] {
  const first = r.rounds[0]?.webtorrent;
  rows.push([`(wt) WebTorrent 3 vs meshdrop, ${r.mib} MiB, the same 2 browsers (on-disk profiles)`, '', '', '']);
  if (first) {
    const kib = first.leeched.pieceLength / 1024;
    rows.push(['(wt)   WebTorrent store, pieces', `${first.leeched.store}, ${first.leeched.files} files; ${first.leeched.pieces} x ${kib} KiB`, '', '']);
  }
  const cpu: string[] = [];
  r.rounds.forEach((round, i) => {
    const { webtorrent: w, meshdrop: m } = round;
    const n = `(wt) round ${i + 1} (${round.order.join(' first, then ')})`;
    rows.push([`${n} WebTorrent add -> download event`, `${w.addToEventSeconds.toFixed(1)} s = ${w.mibPerSec.toFixed(1)} MiB/s`, '', w.sha256Matches ? 'sha256 ok' : 'SHA-256 MISMATCH']);
    rows.push([`${n}   WebTorrent add -> metadata / done`, `${w.leeched.metadataSeconds.toFixed(1)} s / ${w.leeched.doneSeconds.toFixed(1)} s`, '', '']);
    rows.push([`${n} meshdrop click -> download event`, `${m.clickToEventSeconds.toFixed(1)} s = ${m.mibPerSec.toFixed(1)} MiB/s`, '', m.sha256Matches ? 'sha256 ok' : 'SHA-256 MISMATCH']);
    rows.push([`${n} CPU per MiB, both browsers: WebTorrent / meshdrop`, `${cpuMsPerMiB(w.cpu, r.mib)} ms / ${cpuMsPerMiB(m.cpu, r.mib)} ms`, '', '']);
    rows.push([`${n} seeding / sharing (hash + store, untimed)`, `${w.seeded.seconds.toFixed(1)} s / ${(m.shareSeconds[0] ?? 0).toFixed(1)} s`, '', '']);
    cpu.push(`  (wt${i + 1} WebTorrent) ${cpuText(w.cpu)}`, `  (wt${i + 1} meshdrop)   ${cpuText(m.cpu)}`);
  });
  return cpu;
}

export function webtorrentTargets(r: CompareResults): Target[] {
  const ok = r.rounds.every((x) => x.webtorrent.sha256Matches && x.meshdrop.sha256Matches);
  return [
    { name: '(wt) meshdrop rate / WebTorrent rate, same run', value: Math.round(r.ratio * 1000) / 1000, goal: '>= 1.5x', pass: r.ratio >= 1.5 },
    { name: '(wt) saved files SHA-256 match', value: ok ? 1 : 0, goal: 'match', pass: ok },
  ];
}
