import { ai6 } from './test-support/sdk-ai6.js'
import { understudyModelSuite } from './test-support/understudy-model-suite.js'

// ai 6 (spec V3 models), on every Node the packages support; ai 7 runs in
// understudy-model.node24.test.ts.
understudyModelSuite(ai6)
