import { recordedBodiesIn } from '../../../../test-support/recorded-fixtures.js'

export {
  readRecorded,
  readRecordedHeaders,
  readRecordedJson,
  readRecordedStream,
  recordedStatus,
  splitSse,
} from '../../../../test-support/recorded-fixtures.js'

/** The recorded bodies of the Gemini dialect, as `dir/name`: every file but the header dumps. */
export function recordedBodies(): readonly string[] {
  return recordedBodiesIn(['gemini'])
}
