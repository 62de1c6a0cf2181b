import { fromAISDKSuite } from './test-support/from-aisdk-suite.js'
import { ai7 } from './test-support/sdk-ai7.js'

// ai 7's V4 models (Node >= 22).
fromAISDKSuite(ai7)
