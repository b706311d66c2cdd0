/**
 * The Lua twin of src/limiters/token-bucket.ts (formula for formula), run by the decision script.
 * KEYS: the policy key `prefix:token-bucket:name:{userKey}`: a string "deficit lastMs" (absent = a full bucket).
 * ARGV (this policy's config, in order): ratePerMs, burst.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const tokenBucketLua: LuaAlgorithm = {
  name: 'token-bucket',
  configFields: ['ratePerMs', 'burst'],
  sha1: '90999d79fe4aa19026ed540a5c04c5b86cc2f534',
  lua: `{
  kind = 'numeric',
  size = 2,
  step = function(s, input, c, out)
    local nowMs, cost = input.nowMs, input.cost
    local ratePerMs, burst = c[1], c[2]
    local lastMs = s[2]
    local deficit = s[1]
    -- A clock that steps backwards refills nothing.
    if deficit > 0 and nowMs > lastMs then deficit = math.max(0, deficit - (nowMs - lastMs) * ratePerMs) end
    local available = burst - deficit
    out.waitMs = 0
    if cost <= available + 1e-9 then
      deficit = math.max(0, deficit + cost)
      out.allowed = true
      out.remaining = math.max(0, available - cost)
      out.retryAfterMs = 0
      if input.commit then
        s[1] = deficit
        s[2] = nowMs > lastMs and nowMs or lastMs
      end
    else
      out.allowed = false
      out.remaining = available
      out.retryAfterMs = cost > burst and math.huge or (cost - available) / ratePerMs
    end
    out.resetMs = deficit / ratePerMs
  end,
  refund = function(s, nowMs, cost, c)
    local lastMs = s[2]
    local deficit = s[1]
    if nowMs > lastMs then deficit = math.max(0, deficit - (nowMs - lastMs) * c[1]) end
    s[1] = math.max(0, deficit - cost)
    s[2] = nowMs > lastMs and nowMs or lastMs
  end,
  expiresAt = function(s, c)
    return s[2] + s[1] / c[1]
  end,
  lastUpdate = function(s)
    return s[2]
  end,
}`,
};
