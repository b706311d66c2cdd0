/**
 * The Lua twin of src/limiters/token-bucket.ts (formula for formula), run by the decision script.
 * KEYS: the policy key `prefix:token-bucket:name:{userKey}`: a string "deficit lastMs" (absent = a full bucket).
 * ARGV (this policy's config, in order): ratePerMs, burst.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const tokenBucketLua: LuaAlgorithm = {
  name: 'token-bucket',
  configFields: ['ratePerMs', 'burst'],
  sha1: '3f9cd28b6c2a566b6e212fe4f0f082127f968df3',
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
      -- After a backwards clock step no refill happens until the clock passes lastMs again.
      local catchUpMs = lastMs > nowMs and lastMs - nowMs or 0
      out.retryAfterMs = cost > burst and math.huge or (cost - available) / ratePerMs + catchUpMs
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
