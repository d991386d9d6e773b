import { describe, expect, it } from 'vitest'
import { DataError } from '../src/errors.js'

describe('DataError', () => {
  it('is an Error named DataError carrying its message', () => {
    const e = new DataError('train-labels-idx1-ubyte.gz: truncated')
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('DataError')
    expect(e.message).toBe('train-labels-idx1-ubyte.gz: truncated')
    expect(String(e)).toBe('DataError: train-labels-idx1-ubyte.gz: truncated')
  })
})
