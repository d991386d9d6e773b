// Layers whose saved configs must not change when their factories are rewritten (on
// defineLayer / defineContainer): scripts/fixtures/layer-configs.ts saved their specs and
// summaries, made by the factories before the rewrite, in test/fixtures/layer-configs.json.

import {
  type AnyBlock,
  adaptNormalization,
  add,
  batchNormalization,
  concatenate,
  dense,
  fanInConcat,
  fanInSum,
  fanOut,
  flatten,
  identity,
  initModel,
  type Model,
  named,
  normalization,
  parallel,
  residual,
  sequential,
  serial,
} from '@purenn/layers'
import { key, tensor } from '@purenn/tensor'

/** A name and a layer, built the same way before and after the rewrite. */
export const configCases = (): readonly (readonly [string, AnyBlock])[] => [
  ['normalization', normalization({ mean: [1, 2], variance: [3, 4] })],
  ['normalization axis 0 named', normalization({ axis: 0, mean: [0.5], variance: [0.25], name: 'norm' })],
  ['normalization axis -2', normalization({ axis: -2, mean: [1, 2, 3], variance: [0, 1, 2] })],
  [
    'adaptNormalization',
    adaptNormalization(
      tensor([
        [1, 10],
        [3, 30],
        [4, 20],
      ]),
      { name: 'adapted' },
    ),
  ],
  [
    'adaptNormalization axis 0',
    adaptNormalization(
      tensor([
        [
          [1, 2, 3],
          [4, 5, 7],
        ],
      ]),
      { axis: 0 },
    ),
  ],
  ['add', add()],
  ['add named', add({ name: 'sum' })],
  ['concatenate', concatenate()],
  ['concatenate axis 1 named', concatenate({ axis: 1, name: 'join' })],
  ['concatenate axis 2', concatenate({ axis: 2 })],
  ['serial empty', serial()],
  ['serial', serial(dense({ units: 2 }), named('id', identity()))],
  ['serial named', named('block', serial(dense({ units: 2 }), batchNormalization()))],
  ['serial of serials', serial(serial(dense({ units: 3 })), serial(flatten(), dense({ units: 1 })))],
  ['parallel', parallel(identity(), dense({ units: 1 }))],
  ['parallel named', named('towers', parallel(dense({ units: 2 }), identity({ name: 'skip' })))],
  ['fanOut', fanOut(2)],
  ['fanOut named', fanOut(3, { name: 'f' })],
  ['fanInSum', fanInSum()],
  ['fanInSum named', fanInSum({ name: 's' })],
  ['fanInConcat', fanInConcat()],
  ['fanInConcat axis 2 named', fanInConcat({ axis: 2, name: 'c' })],
  ['identity', identity()],
  ['identity named', identity({ name: 'skip' })],
  ['residual', residual(serial(dense({ units: 3 }), batchNormalization()))],
  ['residual named', residual(dense({ units: 3 }), { name: 'r' })],
  ['named residual', named('block1', residual(dense({ units: 3 })))],
  ['sequential', sequential([flatten(), dense({ units: 2 })])],
  ['sequential named with input shape', sequential([dense({ units: 2 })], { name: 'net', inputShape: [3] })],
  [
    'sequential nested',
    sequential(
      [
        normalization({ mean: [0, 1, 2], variance: [1, 1, 4] }),
        dense({ units: 4 }),
        named('block1', residual(serial(dense({ units: 4, activation: 'relu' }), batchNormalization()))),
        serial(fanOut(2), parallel(dense({ units: 2 }), identity()), fanInConcat()),
        serial(fanOut(3), named('towers', parallel(dense({ units: 6 }), identity(), identity())), add()),
        serial(fanOut(2), parallel(identity(), identity()), concatenate({ axis: -1 }), fanOut(2), fanInSum()),
        sequential([dense({ units: 2 })], { name: 'head' }),
      ],
      { name: 'model', inputShape: [3] },
    ),
  ],
]

/** Models whose `summary` must not change. */
export const summaryCases = (): readonly (readonly [string, Model])[] => [
  ['sequential nested', initModel(configCases().at(-1)![1] as never, { key: key(0) })],
  [
    'serial named',
    initModel(
      named(
        'net',
        serial(
          normalization({ mean: [0, 1], variance: [1, 4] }),
          residual(serial(dense({ units: 2 }), batchNormalization())),
          serial(fanOut(2), parallel(dense({ units: 3 }), identity()), fanInConcat()),
        ),
      ) as never,
      { key: key(0), inputShape: [2] },
    ),
  ],
]
