import { regressionSuite } from './test-support/regression-suite.js'
import { ai6 } from './test-support/sdk-ai6.js'

regressionSuite(ai6)
