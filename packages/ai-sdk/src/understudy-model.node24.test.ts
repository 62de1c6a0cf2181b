import { ai7 } from './test-support/sdk-ai7.js'
import { understudyModelSuite } from './test-support/understudy-model-suite.js'

// ai 7 (Node >= 22): it takes the bridge's V3 model through its own V3 → V4 adapter.
understudyModelSuite(ai7)
