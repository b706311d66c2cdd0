/**
 * The Lua twins of src/limiters/leaky-bucket.ts (formula for formula), run by the decision script.
 * Police — KEYS: `prefix:leaky-bucket-police:name:{userKey}`: a float64 [emptyAtMs] (absent = an empty bucket).
 * Shape — KEYS: `prefix:leaky-bucket-shape:name:{userKey}`: a float64 [nextFreeAtMs] (absent = nothing waiting);
 *   the group's maxWaitMs is how long a reservation may wait (acquire passes its remaining timeout).
 * ARGV (this policy's config, in order, both modes): intervalMs, capacity.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const leakyBucketPoliceLua: LuaAlgorithm = {
  name: 'leaky-bucket-police',
  configFields: ['intervalMs', 'capacity'],
  sha1: '780e10e9261965d8a01f8b687bdecaed8eb87f2f',
  lua: `{
  kind = 'numeric',
  size = 1,
  step = function(s, input, c, out)
    local nowMs, cost = input.nowMs, input.cost
    local intervalMs, capacity = c[1], c[2]
    -- A clock stepping back sees a fuller bucket, never an emptier one.
    local emptyAtMs = math.max(s[1], nowMs)
    local level = (emptyAtMs - nowMs) / intervalMs
    out.waitMs = 0
    if level + cost <= capacity + 1e-9 then
      out.allowed = true
      out.remaining = math.max(0, capacity - level - cost)
      out.retryAfterMs = 0
      out.resetMs = (level + cost) * intervalMs
      if input.commit and cost > 0 then s[1] = emptyAtMs + cost * intervalMs end
    else
      out.allowed = false
      out.remaining = math.max(0, capacity - level)
      out.retryAfterMs = cost > capacity and math.huge or (level + cost - capacity) * intervalMs
      out.resetMs = level * intervalMs
    end
  end,
  refund = function(s, nowMs, cost, c)
    local emptyAtMs = s[1] - cost * c[1]
    s[1] = emptyAtMs > nowMs and emptyAtMs or 0
  end,
  expiresAt = function(s)
    return s[1]
  end,
}`,
};

export const leakyBucketShapeLua: LuaAlgorithm = {
  name: 'leaky-bucket-shape',
  configFields: ['intervalMs', 'capacity'],
  sha1: '8c3c936293bafe07ba434f79321d827a2843e612',
  lua: `{
  kind = 'numeric',
  size = 1,
  step = function(s, input, c, out)
    local nowMs, cost, maxWaitMs = input.nowMs, input.cost, input.maxWaitMs
    local intervalMs, capacity = c[1], c[2]
    local nextFreeAtMs = s[1]
    local waitMs = nextFreeAtMs - nowMs
    if waitMs <= 1e-6 then waitMs = 0 end
    local waiting = waitMs / intervalMs
    if cost <= capacity + 1e-9 and (waitMs == 0 or (waitMs <= maxWaitMs and waiting + cost <= capacity + 1e-9)) then
      out.allowed = true
      out.waitMs = waitMs
      out.remaining = math.max(0, capacity - waiting - cost)
      out.retryAfterMs = 0
      out.resetMs = waitMs + cost * intervalMs
      if input.commit and cost > 0 then s[1] = nowMs + waitMs + cost * intervalMs end
      return
    end
    out.allowed = false
    out.waitMs = 0
    out.remaining = math.max(0, capacity - waiting)
    out.resetMs = waitMs
    if cost > capacity + 1e-9 then
      out.retryAfterMs = math.huge
    elseif waitMs > maxWaitMs then
      out.retryAfterMs = waitMs
    else
      out.retryAfterMs = (waiting + cost - capacity) * intervalMs
    end
  end,
  -- Deliberately nothing: admitted calls hold slots on a schedule (see the JS algorithm).
  refund = function() end,
  expiresAt = function(s)
    return s[1]
  end,
}`,
};
