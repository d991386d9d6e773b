/**
 * Training: the pure training step and the `fit` loop over it, `evaluate`, `predict` and
 * Monte Carlo `mcPredict`, callbacks as values, tf.keras-style progress output, and learning
 * curves as SVG.
 *
 * This is the entry for Node (the `node` export condition); bundlers for the browser get
 * `browser.ts`, the same without what needs Node: `modelCheckpoint`, `saveLearningCurves`,
 * `csvLogger`, training checkpoints (`writeCheckpoint`, `readCheckpoint`, `fit`'s
 * `checkpoint` and `resumeFrom`) and the terminal progress bar.
 *
 * @packageDocumentation
 */

export * from './backup.js'
export * from './callbacks.js'
export * from './checkpoint.js'
export * from './confusionPlot.js'
export * from './csvLogger.js'
export * from './diagnostics.js'
export * from './diagnosticsPlot.js'
export * from './fit.js'
export * from './fitNode.js'
export * from './guard.js'
export * from './modelCheckpoint.js'
export * from './plot.js'
export * from './plotFile.js'
export * from './predict.js'
export * from './progress.js'
export type { RowSource, Rows } from './rowSource.js'
export * from './scheduling.js'
export * from './step.js'
