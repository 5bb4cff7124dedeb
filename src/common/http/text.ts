/**
 * class-transformer step for names people read (user names, concert titles and performers):
 * Unicode NFC, so that "é" typed as e + U+0301 and as U+00E9 is stored, compared and counted
 * against the length limit as the same name. Runs before validation (transform: true).
 */
export const toNfc = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.normalize('NFC') : value;

/**
 * Letters, marks, numbers, punctuation, symbols and plain spaces: no control, format (bidi
 * override, zero-width) or other invisible characters that could disguise a name.
 */
export const VISIBLE_TEXT = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;
