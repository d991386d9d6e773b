import { describe, expect, it } from 'vitest'
import {
  checkPrints,
  closingBracket,
  type DocExample,
  docComments,
  documentedSymbol,
  extractExamples,
  findChecks,
  guideBlocks,
  guideScript,
  modulePath,
  namespaceReexports,
  parseTscOutput,
} from '../doc-examples-lib.js'

const source = `import { x } from './x.js'

/**
 * Elementwise \`a + b\`.
 *
 * @remarks VJP: \`(g, g)\`.
 * @example
 * \`\`\`ts
 * import { add, tensor } from '@purenn/tensor'
 * console.log(add(tensor([1]), 1).toString()) // tensor([2])
 * \`\`\`
 * @category Arithmetic
 */
export const add = (a: number, b: number) => a + b
`

describe('docComments', () => {
  it('strips the " * " prefix and keeps source lines', () => {
    const [c] = docComments(source)
    expect(c?.line).toBe(3)
    expect(c?.column).toBe(0)
    expect(c?.lines.map((l) => l.text)).toEqual([
      '',
      'Elementwise `a + b`.',
      '',
      '@remarks VJP: `(g, g)`.',
      '@example',
      '```ts',
      "import { add, tensor } from '@purenn/tensor'",
      'console.log(add(tensor([1]), 1).toString()) // tensor([2])',
      '```',
      '@category Arithmetic',
      '',
    ])
    expect(c?.lines[7]?.line).toBe(10)
  })

  it('skips plain block comments and keeps indentation after the prefix', () => {
    const cs = docComments('/* not doc */\n/**\n *   indented\n */\nconst a = 1\n/** one line */')
    expect(cs.map((c) => c.lines.map((l) => l.text))).toEqual([['', '  indented', ''], ['one line ']])
  })
})

describe('documentedSymbol', () => {
  const sym = (text: string) => {
    const [c] = docComments(text)
    return c ? documentedSymbol(text, c) : undefined
  }
  it('names exported declarations of every kind', () => {
    expect(sym('/** d */\nexport const add = 1')).toBe('add')
    expect(sym('/** d */\nexport function map<T>(t: T): T')).toBe('map')
    expect(sym('/** d */\nexport async function* gen() {}')).toBe('gen')
    expect(sym('/** d */\nexport interface Tensor {}')).toBe('Tensor')
    expect(sym('/** d */\nexport type Key = number')).toBe('Key')
    expect(sym('/** d */\nexport class ShapeError extends Error {}')).toBe('ShapeError')
    expect(sym('/** d */\n// a note\nexport default function () {}')).toBe('default')
    expect(sym('/** d */\nconst helper = 1')).toBe('helper')
  })
  it('names a member after its container', () => {
    const text = 'export interface Tensor {\n  readonly size: number\n  /** d */\n  item(): number\n}'
    expect(sym(text)).toBe('Tensor.item')
    expect(sym('class A {\n  /** d */\n  static readonly zero = 0\n}')).toBe('A.zero')
  })
})

describe('extractExamples', () => {
  it('takes the ```ts block with its source line and checks', () => {
    const { examples, problems } = extractExamples(source, 'packages/tensor/src/arith.ts')
    expect(problems).toEqual([])
    expect(examples).toEqual([
      {
        file: 'packages/tensor/src/arith.ts',
        symbol: 'add',
        line: 9,
        code: "import { add, tensor } from '@purenn/tensor'\nconsole.log(add(tensor([1]), 1).toString()) // tensor([2])",
        columns: [3, 3],
        checks: [{ line: 1, expected: 'tensor([2])' }],
      },
    ])
  })

  it('takes every ts block of every @example, and ignores other languages and other tags', () => {
    const text = [
      '/**',
      ' * Summary.',
      ' * ```ts',
      ' * notAnExample()',
      ' * ```',
      ' * @example First',
      ' * ```typescript',
      ' * one()',
      ' * ```',
      ' * ```sh',
      ' * pnpm two',
      ' * ```',
      ' * @example',
      ' *   ```ts',
      ' *   if (x) {',
      ' *     three()',
      ' *   }',
      ' *   ```',
      ' * @category C',
      ' */',
      'export const f = 1',
    ].join('\n')
    const { examples, problems } = extractExamples(text, 'f.ts', 'ns.')
    expect(problems).toEqual([])
    expect(examples.map((e) => [e.symbol, e.line, e.code, e.columns])).toEqual([
      ['ns.f', 8, 'one()', [3]],
      ['ns.f', 15, 'if (x) {\n  three()\n}', [5, 5, 5]],
    ])
  })

  it('does not end an @example at an @ inside its code', () => {
    const text = '/**\n * @example\n * ```ts\n * @decorator\n * class A {}\n * ```\n */\nexport class A {}'
    expect(extractExamples(text, 'a.ts').examples.map((e) => e.code)).toEqual(['@decorator\nclass A {}'])
  })

  it('reports an @example without a ts block and an unclosed fence', () => {
    const text = [
      '/**',
      ' * @example',
      ' * ```js',
      ' * f()',
      ' * ```',
      ' */',
      'export const f = 1',
      '/**',
      ' * @example',
      ' * ```ts',
      ' * g()',
      ' */',
      'export const g = 1',
    ].join('\n')
    expect(extractExamples(text, 'x.ts').problems).toEqual([
      { file: 'x.ts', line: 2, symbol: 'f', message: '@example has no ```ts code block' },
      { file: 'x.ts', line: 10, symbol: 'g', message: 'code fence is never closed' },
    ])
  })
})

describe('findChecks', () => {
  it('finds console.log lines ending in a comment, with the comment trimmed', () => {
    const code = [
      "import { a } from 'a'",
      'console.log(a) // 1',
      'console.log(a)',
      "console.log(a, ')', '// no') //   [ 2, 3 ]  ",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: example code as text
      'console.log(`x ${f(")")} y`); // x ) y',
      '  console.log(a.b) //',
      'foo(console.log(a)) // not a check',
      'console.log(a).x // not a check either',
      'console.log(',
      '  a, // inner comment',
      '  b,',
      ') // multi',
    ].join('\n')
    expect(findChecks(code)).toEqual([
      { line: 1, expected: '1' },
      { line: 3, expected: '[ 2, 3 ]' },
      { line: 4, expected: 'x ) y' },
      { line: 8, expected: 'multi' },
    ])
  })

  it('finds the closing bracket past strings, templates and comments', () => {
    expect(closingBracket("f(')', [1, 2]) + 1)", 2)).toBe(13)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: example code as text
    expect(closingBracket('a /* ) */ `${"}"}`)', 0)).toBe(18)
    expect(closingBracket("'unterminated)", 0)).toBe(-1)
  })
})

describe('parseTscOutput', () => {
  it('parses located and global errors with their continuation lines', () => {
    const out = [
      ".doc-examples/examples/tensor/src/arith/L9-add.ts(3,13): error TS2345: Argument of type 'string' is not assignable.",
      "  Type 'string' is not assignable to type 'number'.",
      "error TS5083: Cannot read file 'x'.",
      '',
    ].join('\n')
    expect(parseTscOutput(out)).toEqual([
      {
        file: '.doc-examples/examples/tensor/src/arith/L9-add.ts',
        line: 3,
        column: 13,
        code: 'TS2345',
        message:
          "Argument of type 'string' is not assignable.\n  Type 'string' is not assignable to type 'number'.",
      },
      { file: '', line: 0, column: 0, code: 'TS5083', message: "Cannot read file 'x'." },
    ])
  })
})

describe('checkPrints', () => {
  const ex: DocExample = {
    file: 'packages/tensor/src/arith.ts',
    symbol: 'add',
    line: 10,
    code: '',
    columns: [],
    checks: [
      { line: 1, expected: 'tensor([2])' },
      { line: 2, expected: '[ 2, 3 ]' },
    ],
  }
  it('passes matching prints (trimmed) and ignores unchecked lines', () => {
    const prints = [
      { line: 0, text: 'anything' },
      { line: 1, text: 'tensor([2]) ' },
      { line: 2, text: '[ 2, 3 ]' },
    ]
    expect(checkPrints(ex, prints)).toEqual([])
  })
  it('reports a wrong print and a missing one at their source lines', () => {
    expect(checkPrints(ex, [{ line: 1, text: 'tensor([3])\nmore' }])).toEqual([
      { line: 11, message: 'printed "tensor([3])\\nmore", expected "tensor([2])"' },
      { line: 12, message: 'printed nothing, expected "[ 2, 3 ]"' },
    ])
  })
  it('does not report checks after the line that threw', () => {
    expect(checkPrints(ex, [{ line: 1, text: 'tensor([2])' }], 2)).toEqual([])
    expect(checkPrints(ex, [], null)).toEqual([])
    expect(checkPrints(ex, [], 2)).toEqual([{ line: 11, message: 'printed nothing, expected "tensor([2])"' }])
  })
})

describe('namespaceReexports and modulePath', () => {
  it('maps files re-exported as namespaces', () => {
    expect(namespaceReexports("export * from './arith.js'\nexport * as tree from './tree.js'\n")).toEqual({
      'tree.ts': 'tree',
    })
  })
  it('names example modules after file, line and symbol', () => {
    expect(modulePath({ file: 'packages/tensor/src/tree.ts', line: 44, symbol: 'tree.map' })).toBe(
      'tensor/src/tree/L44-tree.map.ts',
    )
  })
})

describe('guideScript', () => {
  const guide = [
    '---',
    'title: T',
    'snippets: script',
    '---',
    '# Title',
    '```ts',
    'const a = 1',
    '```',
    'text',
    '```python',
    'print(1)',
    '```',
    '```ts',
    'console.log(a + 1) // 2',
    '```',
  ].join('\n')

  it('keeps the ts blocks at their own lines and blanks everything else', () => {
    const ex = guideScript(guide, 'docs/guides/t.md')!
    const lines = ex.code.split('\n')
    expect(lines[6]).toBe('const a = 1')
    expect(lines[13]).toBe('console.log(a + 1) // 2')
    expect(lines.filter((l) => l !== '')).toEqual(['const a = 1', 'console.log(a + 1) // 2'])
    expect(ex.checks).toEqual([{ line: 13, expected: '2' }])
  })

  it('ignores guides without `snippets: script`', () => {
    expect(guideScript(guide.replace('snippets: script', 'snippets: illustrative'), 'x.md')).toBeUndefined()
    expect(guideScript('# no front matter\n```ts\nx\n```', 'x.md')).toBeUndefined()
  })
})

describe('guideBlocks', () => {
  const guide = ['# T', '', '```ts', 'const a = 1', '```', 'text', '```ts', 'const a = 2', '```', ''].join(
    '\n',
  )

  it('makes each ts block a program of its own, at the guide lines', () => {
    const blocks = guideBlocks(guide, 'docs/guides/t.md')
    expect(blocks.map((b) => b.code.split('\n'))).toEqual([
      ['', '', '', 'const a = 1'],
      ['', '', '', '', '', '', '', 'const a = 2'],
    ])
  })

  it('leaves guides marked script or unchecked to their own handling', () => {
    for (const mark of ['script', 'unchecked'])
      expect(guideBlocks(`---\nsnippets: ${mark}\n---\n${guide}`, 'docs/guides/t.md')).toEqual([])
  })
})
