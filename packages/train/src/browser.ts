/**
 * Training, the entry for browsers and other runtimes without Node's file system or
 * terminal (the `default` export condition): everything of the Node entry but
 * `modelCheckpoint`, `saveLearningCurves`, `csvLogger`, training checkpoints
 * (`writeCheckpoint`, `readCheckpoint`, `fit`'s `checkpoint` and `resumeFrom`) and the live terminal bar (`fit` writes one line
 * per epoch, to `console.log` unless `output` says otherwise).
 *
 * @packageDocumentation
 */
export * from './callbacks.js'
export * from './confusionPlot.js'
export * from './diagnostics.js'
export * from './diagnosticsPlot.js'
export * from './fit.js'
export * from './fitBrowser.js'
export * from './guard.js'
export * from './plot.js'
export * from './predict.js'
export * from './progress.js'
export type { RowSource, Rows } from './rowSource.js'
export * from './scheduling.js'
export * from './step.js'
