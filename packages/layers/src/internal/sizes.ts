// Sizes read from a file, checked against the weights the file really holds before a layer is
// built: a damaged `units` or input shape must fail in microseconds, not after allocating
// gigabytes. Not exported from the package.

/**
 * The first size of an architecture that its manifest cannot back, as a message, or undefined.
 *
 * @remarks Every `units` (at any depth of the config, walked without recursion) must be a
 * dimension of some weight, and, when there are weights, every dimension of the input shape at
 * most the largest weight dimension (the first layer with weights sees the input's last axis,
 * or all its axes flattened into one; with convolutions or pooling only the channels axis is
 * bound, and with an embedding or a reshape no axis is). `dims` are the dimensions of the manifest's weights,
 * whose total size has been checked against the files.
 */
export const sizesWithoutWeights = (
  architecture: unknown,
  where: string,
  inputShape: readonly number[],
  inputWhere: string,
  dims: readonly number[],
  manifestName: string,
): string | undefined => {
  const known = new Set(dims)
  // convolutions and pooling leave height and width unbound by any weight (only the channels
  // meet the kernel), and an embedding's input length meets no weight at all
  let spatial = false
  let free = false
  const stack: [unknown, string][] = [[architecture, where]]
  while (stack.length > 0) {
    const [u, path] = stack.pop()!
    if (Array.isArray(u)) for (const [i, v] of u.entries()) stack.push([v, `${path}[${i}]`])
    else if (typeof u === 'object' && u !== null)
      for (const [k, v] of Object.entries(u)) {
        if ((k === 'kind' || k === 'class_name') && typeof v === 'string') {
          if (/^(Conv2D|MaxPooling2D|AveragePooling2D|GlobalAveragePooling2D)$/.test(v)) spatial = true
          if (v === 'Embedding' || v === 'Reshape') free = true
        }
        if (k === 'units' && typeof v === 'number' && !known.has(v))
          return `${path}.units: ${v} is no dimension of any weight in ${manifestName}`
        stack.push([v, `${path}.${k}`])
      }
  }
  if (dims.length === 0 || free) return undefined
  const largest = dims.reduce((a, b) => Math.max(a, b), 0)
  const i = inputShape.findIndex((d, j) => d > largest && (!spatial || j === inputShape.length - 1))
  return i === -1
    ? undefined
    : `${inputWhere}[${i}]: ${inputShape[i]} is larger than any weight dimension in ${manifestName} (${largest})`
}
