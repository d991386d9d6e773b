// HDF5 through h5wasm (the HDF5 C library compiled to WebAssembly: no native build, runs in
// Node and browsers). h5wasm works on files of its own in-memory file system; each call here
// puts the bytes in a file of a fresh name, uses it and removes it, so nothing outlives the call.
import { Dataset, File, Group, ready } from 'h5wasm'

/** A name no other call uses (a random UUID: a file name, not a number that reaches results). */
const scratchName = (): string => `/purenn-${globalThis.crypto.randomUUID()}.h5`

/** Reads an HDF5 file given as bytes with `read`, which must not keep the file. @internal */
export const readH5 = async <A>(bytes: Uint8Array, read: (file: File) => A): Promise<A> => {
  const { FS } = await ready
  const name = scratchName()
  FS.writeFile(name, bytes)
  let file: File | undefined
  try {
    file = new File(name, 'r')
    return read(file)
  } finally {
    file?.close()
    FS.unlink(name)
  }
}

/** Builds an HDF5 file with `write` and returns its bytes. @internal */
export const writeH5 = async (write: (file: File) => void): Promise<Uint8Array> => {
  const { FS } = await ready
  const name = scratchName()
  try {
    const file = new File(name, 'w')
    try {
      write(file)
    } finally {
      file.close()
    }
    return FS.readFile(name)
  } finally {
    if (FS.analyzePath(name).exists) FS.unlink(name)
  }
}

/** The group at `path`, or undefined when there is none or it is not a group. @internal */
export const groupAt = (g: Group, path: string): Group | undefined => {
  const e = g.get(path)
  return e instanceof Group ? e : undefined
}

/** The dataset at `path`, or undefined. @internal */
export const datasetAt = (g: Group, path: string): Dataset | undefined => {
  const e = g.get(path)
  return e instanceof Dataset ? e : undefined
}

/** A string attribute (HDF5 strings come back as strings or, from h5py, arrays of them). @internal */
export const stringAttr = (g: Group | File, name: string): string | undefined => {
  const a = g.attrs[name]
  const v = a?.value
  return typeof v === 'string' ? v : undefined
}

/** A list-of-strings attribute (`layer_names`, `weight_names` of legacy .h5 files). @internal */
export const stringsAttr = (g: Group, name: string): string[] | undefined => {
  const v = g.attrs[name]?.value
  if (typeof v === 'string') return [v]
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[]
  // an empty list is stored by h5py as an empty float64 array
  if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<number>).length === 0) return []
  return undefined
}
