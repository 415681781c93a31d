/** Renders a command profile's argv template (config/toolkit-profiles.ts) for one run. */
import type { Placeholder } from '../../config/toolkit-profiles';

export function renderArgv(template: readonly string[], values: Record<Placeholder, string>): string[] {
  return template.map((arg) =>
    arg.replace(/\{([a-zA-Z]+)\}/g, (whole, name: string) => {
      if (!(name in values)) throw new Error(`unknown placeholder ${whole} in command template`);
      return values[name as Placeholder];
    }),
  );
}
