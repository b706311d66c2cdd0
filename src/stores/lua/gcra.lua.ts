/**
 * The Lua twin of src/limiters/gcra.ts (formula for formula), run by the decision script.
 * KEYS: the policy key `prefix:gcra:name:{userKey}`: a float64 [tatMs] (absent = fresh).
 * ARGV (this policy's config, in order): intervalMs, burst.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const gcraLua: LuaAlgorithm = {
  name: 'gcra',
  configFields: ['intervalMs', 'burst'],
  sha1: '6dd51f8d79a14f1e5b66700afe7019fda8e69347',
  lua: `{
  kind = 'numeric',
  size = 1,
  step = function(s, input, c, out)
    local nowMs, cost = input.nowMs, input.cost
    local intervalMs, burst = c[1], c[2]
    -- A TAT in the past is a rested key. A clock stepping back only makes the TAT look further ahead: stricter.
    local tatMs = math.max(s[1], nowMs)
    local toleranceMs = burst * intervalMs
    local nextTatMs = tatMs + cost * intervalMs
    local aheadMs = nextTatMs - nowMs
    out.waitMs = 0
    if aheadMs <= toleranceMs + 1e-9 * intervalMs then
      out.allowed = true
      out.remaining = math.max(0, (toleranceMs - aheadMs) / intervalMs)
      out.retryAfterMs = 0
      out.resetMs = aheadMs
      if input.commit and cost > 0 then s[1] = nextTatMs end
    else
      out.allowed = false
      out.remaining = math.max(0, (toleranceMs - (tatMs - nowMs)) / intervalMs)
      out.retryAfterMs = cost > burst and math.huge or aheadMs - toleranceMs
      out.resetMs = tatMs - nowMs
    end
  end,
  refund = function(s, nowMs, cost, c)
    local tatMs = s[1] - cost * c[1]
    -- Never earlier than now: a TAT in the past is already a full allowance.
    s[1] = tatMs > nowMs and tatMs or 0
  end,
  expiresAt = function(s)
    return s[1]
  end,
}`,
};
