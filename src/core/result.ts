/** An error value instead of an exception: decoders and parsers return this on bad input. */
export type Result<T, E extends string = string> = { ok: true; value: T } | { ok: false; code: E; error: string };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E extends string>(code: E, error: string): { ok: false; code: E; error: string } => ({ ok: false, code, error });
