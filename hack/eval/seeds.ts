/**
 * The seeds of the labelled sets. They are fixed so that every figure can be reproduced, and distinct so that the
 * calibration is never fitted on the series it is judged on:
 * - CALIBRATION: the isotonic calibration (fit-calibration.ts) is fitted on this set;
 * - EVALUATION: the report (analyzer-eval.ts) is computed on this set only;
 * - EPISODES: the episode-level evaluation (episodes.ts, in analyzer-eval.ts): trajectories replayed as the
 *   operator polls them; nothing is fitted on it either;
 * - development work (looking at individual failures) uses other seeds (1 and up), never these two.
 */
export const SEEDS = { calibration: 20_250_602, evaluation: 20_250_603, episodes: 20_250_604 } as const;

/** Series per set: 60 per kind × pattern × noise cell for the calibration, 30 for the evaluation, 4 trajectories for the episodes. */
export const SET_SIZES = { calibration: 3960, evaluation: 1980, episodes: 264 } as const;
