import { createHash } from 'node:crypto'

/**
 * The Lua script that records one attempt's outcome, atomically: the same
 * rules as core's in-memory store (a sliding-window counter of calls and
 * failures, then a cooldown), run inside Redis so that replicas recording at
 * once never lose a count or move a cooldown's end earlier.
 *
 * KEYS[1] the target's window (a hash), KEYS[2] its cooldown (a string: when
 * it ends, in the client clock's ms). Both keys carry the same `{…}` hash tag,
 * so the script runs on Redis Cluster.
 *
 * ARGV: at, ok (`1`/`0`), retryAfterMs (`''` when none), minCalls,
 * failureRate, windowMs, cooldownMs, windowTtlMs.
 *
 * Replies with the cooldown's end after the record (`'0'` when none), so the
 * replica that recorded it knows at once.
 *
 * Numbers cross into Redis with `%.17g`: Lua's own `tostring` keeps 14
 * digits, which rounds a millisecond epoch with a fraction.
 */
export const recordScript: string = `
local function num(value) return string.format('%.17g', value) end
local at = tonumber(ARGV[1])
local ok = ARGV[2] == '1'
local retryAfter = tonumber(ARGV[3])
local minCalls = tonumber(ARGV[4])
local failureRate = tonumber(ARGV[5])
local windowMs = tonumber(ARGV[6])
local cooldownMs = tonumber(ARGV[7])
local windowTtlMs = tonumber(ARGV[8])

local saved = redis.call('HMGET', KEYS[1], 'start', 'calls', 'failures', 'previousCalls', 'previousFailures')
local start = tonumber(saved[1])
local calls, failures, previousCalls, previousFailures = 0, 0, 0, 0
if start == nil then
  start = at
else
  calls = tonumber(saved[2]) or 0
  failures = tonumber(saved[3]) or 0
  previousCalls = tonumber(saved[4]) or 0
  previousFailures = tonumber(saved[5]) or 0
end

local elapsed = at - start
if elapsed >= windowMs then
  if elapsed < 2 * windowMs then
    previousCalls, previousFailures = calls, failures
  else
    previousCalls, previousFailures = 0, 0
  end
  calls, failures = 0, 0
  start = at - math.fmod(elapsed, windowMs)
end
calls = calls + 1

local current = tonumber(redis.call('GET', KEYS[2])) or 0
local ending = current
if not ok then
  failures = failures + 1
  if cooldownMs > 0 then
    if retryAfter ~= nil then ending = math.max(ending, at + retryAfter) end
    -- Another replica's record may carry an earlier time: its share of the window is then whole.
    local overlap = math.min(1, math.max(0, 1 - (at - start) / windowMs))
    local seen = calls + previousCalls * overlap
    local failed = failures + previousFailures * overlap
    if seen >= minCalls and failed / seen >= failureRate then
      ending = math.max(ending, at + cooldownMs)
      -- A fresh window once the cooldown ends: the target earns its way back.
      calls, failures, previousCalls, previousFailures = 0, 0, 0, 0
      start = at
    end
  end
end

redis.call('HSET', KEYS[1], 'start', num(start), 'calls', num(calls), 'failures', num(failures),
  'previousCalls', num(previousCalls), 'previousFailures', num(previousFailures))
redis.call('PEXPIRE', KEYS[1], windowTtlMs)
-- Only a later end is written, and its TTL with it: a cooldown never shortens, a re-cooling lasts.
if ending > current and ending > at then
  redis.call('SET', KEYS[2], num(ending), 'PX', math.ceil(ending - at))
end
if ending > 0 then return num(ending) end
return '0'
`

/** The script's SHA1, as `EVALSHA` names it. */
export const recordScriptSha: string = createHash('sha1').update(recordScript).digest('hex')
