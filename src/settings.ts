/** How data events show bytes. */
export type View = 'text' | 'hex' | 'both' | 'off';
export const VIEWS: readonly View[] = ['text', 'hex', 'both', 'off'];

/** What `.sendln` and `.attach` append: `cr` for devices that want CR-only lines. */
export type Eol = 'lf' | 'crlf' | 'cr' | 'none';
export const EOL_BYTES: Record<Eol, string> = { lf: '\n', crlf: '\r\n', cr: '\r', none: '' };

/** Session settings (`.set`, `.view`); renderers read them live. */
export interface Settings {
  eol: Eol;
  /** Show timestamps on human lines. */
  time: boolean;
  /** Bytes shown per data event before `… (+N B)`. */
  maxbytes: number;
  color: boolean;
  /** After each event, a line that explains it to a learner (`.explain on`). */
  explain: boolean;
  view: View;
  /** Per-socket views (`.view hex c1`), overriding `view`. */
  views: Map<string, View>;
}

export function defaultSettings(overrides: Partial<Settings> = {}): Settings {
  return { eol: 'lf', time: true, maxbytes: 256, color: false, explain: false, view: 'text', views: new Map(), ...overrides };
}
