import { regressionSuite } from './test-support/regression-suite.js'
import { ai7 } from './test-support/sdk-ai7.js'

regressionSuite(ai7)
