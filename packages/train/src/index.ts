/**
 * Training: the pure training step and the `fit` loop over it, `evaluate`, `predict` and
 * Monte Carlo `mcPredict`, callbacks as values, tf.keras-style progress output, and learning
 * curves as SVG.
 *
 * @packageDocumentation
 */

export * from './backup.js'
export * from './callbacks.js'
export * from './checkpoint.js'
export * from './confusionPlot.js'
export * from './diagnostics.js'
export * from './diagnosticsPlot.js'
export * from './fit.js'
export * from './guard.js'
export * from './plot.js'
export * from './predict.js'
export * from './progress.js'
export * from './scheduling.js'
export * from './step.js'
