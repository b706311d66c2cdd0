/**
 * The Lua twin of src/limiters/sliding-window-approximate.ts (formula for formula), run by the decision script.
 * KEYS: `prefix:sliding-window-approximate:name:{userKey}`: float64s [currentWindowStartMs, currentCount,
 * previousCount] (absent = fresh).
 * ARGV (this policy's config, in order): limit, windowMs.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const slidingWindowApproximateLua: LuaAlgorithm = {
  name: 'sliding-window-approximate',
  configFields: ['limit', 'windowMs'],
  sha1: '898b2794c54284cb01d291a842ccc71e0c26f6f8',
  lua: `{
  kind = 'numeric',
  size = 3,
  -- JS Math.round.
  round = function(x)
    return math.floor(x + 0.5)
  end,
  -- The earliest time a call of cost fits, given the counts of the aligned window starting at windowStartMs.
  retryAtMs = function(windowStartMs, current, previous, cost, limit, windowMs)
    if current + cost <= limit + 1e-9 then
      return windowStartMs + windowMs * (1 - (limit - current - cost) / previous)
    end
    return windowStartMs + windowMs + windowMs * (1 - (limit - cost) / current)
  end,
  step = function(s, input, c, out, self)
    local nowMs, cost = input.nowMs, input.cost
    local limit, windowMs = c[1], c[2]
    local current, previous = s[2], s[3]
    local index = math.floor(nowMs / windowMs)
    if current > 0 or previous > 0 then
      local storedIndex = self.round(s[1] / windowMs)
      -- A clock stepping back into an earlier window is taken to be at the start of the stored one.
      if index <= storedIndex then
        index = storedIndex
      elseif index == storedIndex + 1 then
        previous = current
        current = 0
      else
        previous = 0
        current = 0
      end
    end
    local windowStartMs = index * windowMs
    local offset = math.min(1, math.max(0, (nowMs - windowStartMs) / windowMs))
    local estimate = previous * (1 - offset) + current
    out.waitMs = 0
    if estimate + cost <= limit + 1e-9 then
      current = current + cost
      out.allowed = true
      out.remaining = math.max(0, limit - estimate - cost)
      out.retryAfterMs = 0
      if input.commit and cost > 0 then
        s[1] = windowStartMs
        s[2] = current
        s[3] = previous
      end
    else
      out.allowed = false
      out.remaining = math.max(0, limit - estimate)
      out.retryAfterMs = cost > limit and math.huge or
        self.retryAtMs(windowStartMs, current, previous, cost, limit, windowMs) - nowMs
    end
    -- Back to a full quota once the current count has also slid out of the window after this one.
    local fullAtMs = nowMs
    if current > 0 then
      fullAtMs = windowStartMs + 2 * windowMs
    elseif previous > 0 then
      fullAtMs = windowStartMs + windowMs
    end
    out.resetMs = math.max(0, fullAtMs - nowMs)
  end,
  refund = function(s, nowMs, cost, c, self)
    local windowMs = c[2]
    local current, previous = s[2], s[3]
    if current <= 0 and previous <= 0 then return end
    local storedIndex = self.round(s[1] / windowMs)
    local index = math.max(storedIndex, math.floor(nowMs / windowMs))
    if index == storedIndex + 1 then
      previous = current
      current = 0
    elseif index > storedIndex + 1 then
      previous = 0
      current = 0
    end
    -- Give back from the current window first, then from the previous one; counts never go below zero.
    local fromCurrent = math.min(current, cost)
    current = current - fromCurrent
    previous = math.max(0, previous - (cost - fromCurrent))
    s[1] = (current > 0 or previous > 0) and index * windowMs or 0
    s[2] = current
    s[3] = previous
  end,
  expiresAt = function(s, c)
    if s[2] > 0 then return s[1] + 2 * c[2] end
    if s[3] > 0 then return s[1] + c[2] end
    return 0
  end,
}`,
};
