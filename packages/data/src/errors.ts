/**
 * A problem with data from outside the program: a missing, truncated or corrupt dataset file,
 * a failed download, an invalid loader option.
 *
 * @remarks
 * Thrown only by the user-facing shell ({@link readIdxFile}, {@link loadFashionMnist}); the
 * decoders underneath return an `Either` instead. The message names the file or option, says
 * what was wrong and, for datasets, the ways to provide the data.
 *
 * @example
 * ```ts
 * import { DataError, readIdxFile } from '@purenn/data'
 * try { readIdxFile('/nonexistent/train-labels-idx1-ubyte.gz') } catch (e) { console.log(e instanceof DataError) } // true
 * ```
 * @category Errors
 */
export class DataError extends Error {
  /** @param message - the file or option concerned, what was wrong, and what to do about it. */
  constructor(message: string) {
    super(message)
    this.name = 'DataError'
  }
}
