// Cosine thresholds per embedder model id for named operating points (false accept rates),
// calibrated on the dev pairs by `wasmface calibrate` (see README, "Operating points").
export type OperatingPoints = Record<string, number>;
export const DEFAULT_OPERATING_POINTS: Record<string, OperatingPoints> = {};
