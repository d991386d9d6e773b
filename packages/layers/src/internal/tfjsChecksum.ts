import { createHash } from 'node:crypto'

/**
 * The field of a TF.js weights-manifest group in which `saveTfjsModel` writes each shard's
 * SHA-256 (hexadecimal, one per entry of `paths`), and which `loadTfjsModel` checks when it is
 * there. TF.js has no checksums of its own and ignores fields it does not know (checked against
 * TF.js 4.22 in tfjsSave.test.ts), so the files stay readable by TF.js; the prefix keeps the
 * name clear of any field TF.js may add.
 * @internal
 */
export const tfjsShardChecksumField = 'purennSha256'

/** The SHA-256 of `bytes` in hexadecimal (Node's hash takes at most 2 GiB per update). @internal */
export const sha256Hex = (bytes: Uint8Array): string => {
  const h = createHash('sha256')
  for (let i = 0; i < bytes.length; i += 2 ** 30) h.update(bytes.subarray(i, i + 2 ** 30))
  return h.digest('hex')
}
