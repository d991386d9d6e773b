/**
 * A programming error in tensor maths: mismatched shapes, a bad axis, an impossible reshape.
 *
 * @remarks
 * Thrown at once by the op that detects it. The message names the op and every shape
 * involved, as JAX does: `matmul: inner dimensions differ: [32,784] x [300,100]`.
 *
 * @example
 * ```ts
 * import { matmul, zeros, ShapeError } from '@purenn/tensor'
 * const attempt = (): unknown => {
 *   try {
 *     return matmul(zeros([32, 784]), zeros([300, 100]))
 *   } catch (e) {
 *     return e
 *   }
 * }
 * const error = attempt()
 * console.log(error instanceof ShapeError) // true
 * console.log((error as ShapeError).message) // matmul: inner dimensions differ: [32,784] x [300,100]
 * ```
 * @category Errors
 */
export class ShapeError extends Error {
  /** @param message - the op name, what is wrong, and the shapes involved. */
  constructor(message: string) {
    super(message)
    this.name = 'ShapeError'
  }
}
