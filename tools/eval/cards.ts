// The measured-agreement section of the model cards (models/<id>.md). `npm run eval:models --
// --write-cards` rewrites what lies between the two markers; tools/convert/cli.ts, which generates
// the rest of each card, carries the section over when it regenerates a card (marking it stale when
// the .wfm it was measured on is no longer the one written).

export const EVAL_BEGIN = '<!-- eval:models -->';
export const EVAL_END = '<!-- /eval:models -->';
const STALE = '> **Stale:**';

/** The section with its markers, or undefined. */
export function extractEvalSection(card: string): string | undefined {
  const i = card.indexOf(EVAL_BEGIN), j = card.indexOf(EVAL_END);
  return i >= 0 && j > i ? card.slice(i, j + EVAL_END.length) : undefined;
}

/** The card with its section replaced by `section` (markers included), or the section appended. */
export function replaceEvalSection(card: string, section: string): string {
  const old = extractEvalSection(card);
  if (old) return card.replace(old, () => section);
  return `${card.replace(/\n*$/, '\n')}\n${section}\n`;
}

/** SHA-256 of the model file the section was measured on (the section records it). */
export function measuredSha256(section: string): string | undefined {
  return /measured on `models\/[^`]+\.wfm`[^`]*SHA-256 `([0-9a-f]{64})`/.exec(section)?.[1];
}

/**
 * For tools/convert/cli.ts: keeps the measured section of the card being replaced. When the new
 * .wfm differs from the one measured, the section gets a stale note (the figures describe the old file).
 */
export function preserveEvalSection(newCard: string, oldCard: string | undefined, newSha256: string): string {
  const section = oldCard && extractEvalSection(oldCard);
  if (!section) return newCard;
  const measured = measuredSha256(section);
  let kept = section;
  if (measured !== newSha256 && !section.includes(STALE)) {
    kept = section.replace(EVAL_BEGIN, `${EVAL_BEGIN}\n${STALE} measured on an earlier conversion (SHA-256 \`${(measured ?? 'unknown').slice(0, 16)}…\`); ` +
      'this file was regenerated since. Re-run `npm run eval:models -- --write-cards`.\n');
  }
  return replaceEvalSection(newCard, kept);
}
