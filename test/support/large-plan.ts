/**
 * A large `cdf deploy --dry-run --verbose` text: a setup panel, verbose diff panels (`<type>: <id>`, about 25
 * lines each) and a summary table, rendered by rich-render.ts (rich's layout, checked against real captures).
 * Used by the benchmarks (bench/) and by the large-plan test.
 */
import { KNOWN_RESOURCE_DISPLAY_NAMES } from '../../activities/toolkit/dry-run-parser';
import { renderPanel, renderSummary, type SummaryRow } from './rich-render';

export const RESOURCE_TYPES = 40;
export const DIFF_PANELS = 2000;

function diffLines(i: number): string[] {
  const lines = [
    '---',
    '+++',
    `@@ -1,12 +1,14 @@`,
    ` externalId: item_${i}`,
    `-name: Item ${i}`,
    `+name: Item ${i} (renamed)`,
    ' properties:',
  ];
  for (let p = 0; p < 8; p++)
    lines.push(`   prop_${p}:`, `     container: { space: sp_${i % 7}, externalId: C${p} }`);
  lines.push(`+  added_${i}:`, '+    type: text', ` space: sp_${i % 7}`);
  return lines;
}

export function generateDryRunText(resourceTypes = RESOURCE_TYPES, panels = DIFF_PANELS): string {
  const types = KNOWN_RESOURCE_DISPLAY_NAMES.slice(0, resourceTypes);
  const parts: string[] = [
    renderPanel('Setting up deploy operation', [
      "Target project: 'bench'",
      'Toolkit version: 0.8.271',
      'Build path: build/',
      '',
      'Plan:',
      `  ✓ ${types.length} resource types to deploy`,
    ]),
  ];
  for (let i = 0; i < panels; i++) {
    const type = types[i % types.length]!;
    parts.push(renderPanel(`${type}: bench_space:item_${i}`, diffLines(i), { expand: false }));
  }
  const rows: SummaryRow[] = types.map((resource, i) => ({
    resource,
    created: (i * 7) % 13,
    updated: Math.ceil(panels / types.length),
    deleted: i % 3,
    unchanged: 100 + i * 11,
    skipped: i % 5 === 0 ? 1 : 0,
    missingWriteAcl: false,
  }));
  parts.push(renderSummary(rows, 'deploy', true, 200), 'Finished dry-run.\n');
  return parts.join('');
}
