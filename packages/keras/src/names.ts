/**
 * Keras' `to_snake_case` of a class name, which names a layer's group in `model.weights.h5`:
 * `Dense` → `dense`, `BatchNormalization` → `batch_normalization`, `LeakyReLU` →
 * `leaky_re_lu`.
 * @internal
 */
export const kerasSnakeCase = (className: string): string =>
  className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
