import { fromAISDKSuite } from './test-support/from-aisdk-suite.js'
import { ai6 } from './test-support/sdk-ai6.js'

// ai 6's V3 models; ai 7's V4 models run in from-aisdk.node24.test.ts.
fromAISDKSuite(ai6)
