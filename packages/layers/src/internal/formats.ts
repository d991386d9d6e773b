import * as fs from 'node:fs/promises'

const ZIP = [0x50, 0x4b, 0x03, 0x04]
const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

/**
 * What a file given where a model folder was expected is, and which function reads it: a
 * Keras `.keras` zip, an HDF5 `.h5`, an ONNX file, a JSON file. Reads at most 16 bytes.
 * @internal
 */
export const describeFile = async (path: string): Promise<string> => {
  const head = new Uint8Array(16)
  let n = 0
  try {
    const fh = await fs.open(path, 'r')
    try {
      n = (await fh.read(head, 0, 16, 0)).bytesRead
    } finally {
      await fh.close()
    }
  } catch {
    return 'a file that cannot be read'
  }
  const starts = (magic: readonly number[]) => n >= magic.length && magic.every((b, i) => head[i] === b)
  if (starts(ZIP))
    return 'a zip file, such as a Keras 3 .keras file: read .keras files with loadKerasModel of @purenn/keras'
  if (starts(HDF5))
    return 'an HDF5 file, such as a Keras .h5 file: read it with loadKerasModel of @purenn/keras'
  if (path.endsWith('.onnx'))
    return 'an ONNX file: purenn writes ONNX (saveOnnxModel of @purenn/onnx) but does not read it'
  if (
    String.fromCharCode(...head.subarray(0, n))
      .trimStart()
      .startsWith('{')
  )
    return 'a JSON file: a purenn model is the folder that holds model.json; a TF.js model.json is read by loadTfjsModel'
  return 'a file, not a model folder'
}
