/**
 * The Lua twin of src/limiters/fixed-window.ts (formula for formula), run by the decision script.
 * KEYS: the policy key `prefix:fixed-window:name:{userKey}`: float64s [windowStartMs, count] (absent = fresh).
 * ARGV (this policy's config, in order): limit, windowMs.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const fixedWindowLua: LuaAlgorithm = {
  name: 'fixed-window',
  configFields: ['limit', 'windowMs'],
  sha1: 'c84c788f6400eeae8c07907f8053fa4ff9b0002f',
  lua: `{
  kind = 'numeric',
  size = 2,
  step = function(s, input, c, out)
    local nowMs, cost = input.nowMs, input.cost
    local limit, windowMs = c[1], c[2]
    local startMs, count = s[1], s[2]
    -- A clock that steps back before the window's start stays in that window: it never opens a new one early.
    if count <= 0 or nowMs >= startMs + windowMs then
      startMs = nowMs
      count = 0
    end
    out.waitMs = 0
    if count + cost <= limit + 1e-9 then
      count = count + cost
      out.allowed = true
      out.remaining = math.max(0, limit - count)
      out.retryAfterMs = 0
      if input.commit and cost > 0 then
        s[1] = startMs
        s[2] = count
      end
    else
      out.allowed = false
      out.remaining = math.max(0, limit - count)
      out.retryAfterMs = cost > limit and math.huge or startMs + windowMs - nowMs
    end
    out.resetMs = count > 0 and startMs + windowMs - nowMs or 0
  end,
  refund = function(s, nowMs, cost, c)
    local startMs, count = s[1], s[2]
    local left = nowMs >= startMs + c[2] and 0 or count - cost
    if left > 0 then
      s[2] = left
    else
      s[1] = 0
      s[2] = 0
    end
  end,
  expiresAt = function(s, c)
    return s[2] > 0 and s[1] + c[2] or 0
  end,
  lastUpdate = function(s)
    if s[2] > 0 then return s[1] end
    return nil
  end,
}`,
};
