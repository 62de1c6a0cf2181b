/** @module Google Gemini (`generateContent`, `streamGenerateContent`) as an Understudy provider. */
export { google } from './google-provider.js'
export type { GoogleProviderOptions } from './google-provider.js'
