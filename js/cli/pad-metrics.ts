// Presentation-attack-detection (PAD) metrics in ISO/IEC 30107-3 terms, as pure functions of
// liveness outcomes and scores (no I/O: `wasmface liveness` in js/cli/liveness.ts feeds them).
//
// A face counts as live at threshold t when score >= t, the engine's rule. APCER of an attack type:
// the share of that type's attacks accepted as live; BPCER: the share of bona fide (live)
// presentations not accepted. The standard reports the worst type (APCER_PAIS max), never a mean over
// types, so that a rare attack cannot hide behind a common one; every threshold chosen here bounds
// the worst type.

import type { Liveness } from '../engine.js';
import { thresholdAtFar, countAtLeast, aucByRanks } from './metrics.js';

/** The label of a bona fide presentation; any other label is an attack type. */
export const BONA_FIDE = 'live';

/**
 * What the SDK made of one presentation. `no_decision`: a face, but too close to the border for the
 * anti-spoofing patches (`reliable` false); the SDK never calls it live, so it is a rejection,
 * counted apart because the user can fix it by stepping back.
 */
export type Outcome = 'live' | 'attack' | 'no_decision' | 'no_face' | 'unreadable';

/** One row of the report: its label (BONA_FIDE or the attack type), the outcome, the live score when a face was scored. */
export interface Presentation { label: string; outcome: Outcome; score: number | null }

/** The outcome of a liveness result: the SDK's own decision, not the score. */
export const outcomeOf = (l: Pick<Liveness, 'live' | 'reliable'>): Outcome => (!l.reliable ? 'no_decision' : l.live ? 'live' : 'attack');

/** APCER targets of the score-only operating points, named like the engine's operating points. */
export const APCER_TARGETS: Record<string, number> = { '1e-1': 0.1, '5e-2': 0.05, '1e-2': 0.01 };

const share = (n: number, of: number): number | null => (of ? n / of : null);

/** Share of attack scores accepted as live at t; null without attacks. */
export const apcerAt = (attack: readonly number[], t: number): number | null => share(attack.filter((s) => s >= t).length, attack.length);

/** Share of bona fide scores not accepted at t; null without any. */
export const bpcerAt = (live: readonly number[], t: number): number | null => share(live.filter((s) => s < t).length, live.length);

/** APCER of the worst attack type at t, over the types that have scores; null when none has. */
export function maxApcerAt(types: readonly (readonly number[])[], t: number): number | null {
  const rates = types.map((s) => apcerAt(s, t)).filter((r): r is number => r !== null);
  return rates.length ? Math.max(...rates) : null;
}

/**
 * The lowest threshold at which every attack type's APCER is at most `target` (in [0, 1)): APCER only
 * falls and BPCER only rises with the threshold, so this one has the lowest BPCER. Ties at the
 * deciding score are all rejected (the APCER reached may be lower than the target, never higher).
 * Types without scores set no bound; null when no type has any.
 */
export function thresholdAtMaxApcer(types: readonly (readonly number[])[], target: number): number | null {
  const bounds = types.filter((s) => s.length).map((s) => thresholdAtFar(Float64Array.from(s).sort().reverse(), target));
  return bounds.length ? Math.max(...bounds) : null;
}

export interface OperatingPoint { threshold: number; bpcer: number; apcer_max: number }

/** BPCER at the threshold of thresholdAtMaxApcer, with the worst APCER it reaches; null without bona fide or attack scores. */
export function bpcerAtMaxApcer(live: readonly number[], types: readonly (readonly number[])[], target: number): OperatingPoint | null {
  const threshold = thresholdAtMaxApcer(types, target);
  if (threshold === null || !live.length) return null;
  return { threshold, bpcer: bpcerAt(live, threshold)!, apcer_max: maxApcerAt(types, threshold)! };
}

const ascending = (xs: readonly number[]) => Float64Array.from(xs).sort();

/** ROC AUC of bona fide over attack scores (Mann-Whitney, ties half); null if either side is empty. */
export const auc = (live: readonly number[], attack: readonly number[]): number | null => aucByRanks(live, attack);

/**
 * DET points [APCER, BPCER] at every distinct score as threshold, from accepting everything
 * ([1, 0]) to rejecting everything ([0, 1]), thinned to about maxPoints. APCER is the worst of
 * `types`: pass one type for its own curve, all attacks as one type for the pooled curve. Empty
 * without bona fide scores or without attack scores.
 */
export function detCurve(live: readonly number[], types: readonly (readonly number[])[], maxPoints = 400): [number, number][] {
  const L = ascending(live), T = types.filter((s) => s.length).map(ascending);
  if (!L.length || !T.length) return [];
  const thresholds = [...ascending([...new Set([...live, ...types.flat()].filter(Number.isFinite))]), Infinity];
  const step = Math.max(1, Math.floor(thresholds.length / maxPoints));
  const pts: [number, number][] = [];
  thresholds.forEach((t, i) => {
    if (i % step && i !== thresholds.length - 1) return;
    pts.push([Math.max(...T.map((s) => countAtLeast(s, t) / s.length)), 1 - countAtLeast(L, t) / L.length]);
  });
  return pts;
}

/** Which scored faces a score-only figure uses: those the SDK could decide on, or every face with a score. */
export type Population = 'decided' | 'all';
const IN_POPULATION: Record<Population, ReadonlySet<Outcome>> = { decided: new Set(['live', 'attack']), all: new Set(['live', 'attack', 'no_decision']) };

/** Bona fide scores and each attack type's scores (types in `types` order; a type without scores gets []). */
export function scoresOf(ps: readonly Presentation[], population: Population, types: readonly string[]): { live: number[]; attacks: number[][] } {
  const of = (label: string) => ps.filter((p) => p.label === label && p.score !== null && IN_POPULATION[population].has(p.outcome)).map((p) => p.score!);
  return { live: of(BONA_FIDE), attacks: types.map(of) };
}

/** Presentations of one label by outcome; `count` is their sum. */
export interface Tally { count: number; live: number; attack: number; no_decision: number; no_face: number; unreadable: number }
/**
 * Rates are over the scored faces (live + attack + no_decision); no_face and unreadable are reported
 * as counts beside them (ISO: non-responses), never folded in, never dropped.
 */
export interface BonaFide extends Tally { bpcer: number | null; bpcer_judged_attack: number | null; bpcer_no_decision: number | null }
export interface AttackType extends Tally { apcer: number | null }

export interface ScoreReport {
  /** How many scores the figures below rest on. */
  live: number;
  attacks: Record<string, number>;
  /** Bona fide against all attacks pooled, and against each type. */
  auc: number | null;
  auc_by_type: Record<string, number | null>;
  /** Keyed by APCER target ('1e-1' = 10 %): the threshold bounding the worst type's APCER, and the BPCER there. */
  bpcer_at_apcer: Record<string, OperatingPoint | null>;
}

export interface PadReport {
  presentations: number;
  bona_fide: BonaFide;
  attacks: Record<string, AttackType>;
  /** The worst attack type by the SDK's decision (ISO APCER_PAIS max); null when no attack was scored. */
  apcer_max: { type: string; apcer: number } | null;
  /** The live score alone at other thresholds: among decided faces, and over all scored faces ignoring reliability. */
  score: Record<Population, ScoreReport>;
  no_face: number;
  unreadable: number;
}

function tally(ps: readonly Presentation[]): Tally {
  const t: Tally = { count: ps.length, live: 0, attack: 0, no_decision: 0, no_face: 0, unreadable: 0 };
  for (const p of ps) t[p.outcome]++;
  return t;
}
const scored = (t: Tally) => t.live + t.attack + t.no_decision;

/** Attack types in the presentations, sorted (a stable report order). */
export const attackTypes = (ps: readonly Presentation[]): string[] => [...new Set(ps.map((p) => p.label).filter((l) => l !== BONA_FIDE))].sort();

function scoreReport(ps: readonly Presentation[], population: Population, types: string[], targets: Record<string, number>): ScoreReport {
  const { live, attacks } = scoresOf(ps, population, types);
  return {
    live: live.length,
    attacks: Object.fromEntries(types.map((t, i) => [t, attacks[i].length])),
    auc: auc(live, attacks.flat()),
    auc_by_type: Object.fromEntries(types.map((t, i) => [t, auc(live, attacks[i])])),
    bpcer_at_apcer: Object.fromEntries(Object.entries(targets).map(([name, target]) => [name, bpcerAtMaxApcer(live, attacks, target)])),
  };
}

/** The whole report: the SDK's decisions per label, the worst attack type, and the score-only operating points. */
export function padReport(ps: readonly Presentation[], targets: Record<string, number> = APCER_TARGETS): PadReport {
  const types = attackTypes(ps);
  const b = tally(ps.filter((p) => p.label === BONA_FIDE)), nb = scored(b);
  const attacks = Object.fromEntries(types.map((type): [string, AttackType] => {
    const t = tally(ps.filter((p) => p.label === type));
    return [type, { ...t, apcer: share(t.live, scored(t)) }];
  }));
  let worst: PadReport['apcer_max'] = null;
  for (const [type, a] of Object.entries(attacks)) if (a.apcer !== null && (!worst || a.apcer > worst.apcer)) worst = { type, apcer: a.apcer };
  return {
    presentations: ps.length,
    bona_fide: { ...b, bpcer: share(b.attack + b.no_decision, nb), bpcer_judged_attack: share(b.attack, nb), bpcer_no_decision: share(b.no_decision, nb) },
    attacks,
    apcer_max: worst,
    score: { decided: scoreReport(ps, 'decided', types, targets), all: scoreReport(ps, 'all', types, targets) },
    no_face: ps.filter((p) => p.outcome === 'no_face').length,
    unreadable: ps.filter((p) => p.outcome === 'unreadable').length,
  };
}
