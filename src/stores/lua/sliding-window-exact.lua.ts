/**
 * The Lua twin of src/limiters/sliding-window-exact.ts (the same log operations in the same order), run by the
 * decision script.
 * KEYS: `prefix:sliding-window-exact:name:{userKey}`: a ZSET, the request log: score = the entry's time (ms),
 *   member = a 16-digit sequence number, a space, the entry's cost (%.17g); the sequence keeps insertion order
 *   among equal times. And `<that key>:meta`: float64s [total, sequence] (total = the sum of the costs in the log,
 *   kept by the same additions and subtractions as the JS log, so fractional costs round alike). Both absent =
 *   an empty log.
 * ARGV (this policy's config, in order): limit, windowMs.
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const slidingWindowExactLua: LuaAlgorithm = {
  name: 'sliding-window-exact',
  configFields: ['limit', 'windowMs'],
  keySuffixes: [':meta'],
  sha1: '7765b7be53707b71d616a7a26e7aab0ff5eeded4',
  lua: `{
  kind = 'object',
  extraKeys = 1,
  entryCost = function(member)
    return tonumber(string.sub(member, 18))
  end,
  newest = function(key)
    local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    return last[1], tonumber(last[2])
  end,
  -- The log: { total, sequence, size, newestMs } or nil when empty.
  load = function(key)
    local meta = redis.call('GET', key .. ':meta')
    if not meta then return nil end
    local size = redis.call('ZCARD', key)
    if size == 0 then return nil end
    local total, sequence = struct.unpack('<dd', meta)
    local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    return { total = total, sequence = sequence, size = size, newestMs = tonumber(last[2]) }
  end,
  -- Removes the entries at or before cutoffMs, subtracting their costs oldest first.
  dropExpired = function(self, key, log, cutoffMs)
    local expired = redis.call('ZRANGEBYSCORE', key, '-inf', cutoffMs)
    if #expired == 0 then return end
    for i = 1, #expired do log.total = log.total - self.entryCost(expired[i]) end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoffMs)
    log.size = log.size - #expired
    if log.size == 0 then log.total = 0 end
  end,
  -- Saves the log (or deletes it when empty); it lives until its newest entry leaves the window.
  save = function(key, log, windowMs)
    if log.size <= 0 then
      redis.call('DEL', key, key .. ':meta')
      return
    end
    local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    local expiresAtMs = tonumber(last[2]) + windowMs
    redis.call('SET', key .. ':meta', struct.pack('<dd', log.total, log.sequence))
    expireKey(key, expiresAtMs)
    expireKey(key .. ':meta', expiresAtMs)
  end,
  step = function(key, input, c, out, self)
    local nowMs, cost = input.nowMs, input.cost
    local limit, windowMs = c[1], c[2]
    local log = self.load(key)
    -- The log's times never go back: a clock that steps back is taken to be at the newest entry.
    local effectiveMs = log and math.max(nowMs, log.newestMs) or nowMs
    local cutoffMs = effectiveMs - windowMs
    local used = 0
    if log then
      local before = 0
      local expired = redis.call('ZRANGEBYSCORE', key, '-inf', cutoffMs)
      for i = 1, #expired do before = before + self.entryCost(expired[i]) end
      used = log.total - before
    end
    out.waitMs = 0
    if used + cost <= limit + 1e-9 then
      out.allowed = true
      out.remaining = math.max(0, limit - used - cost)
      out.retryAfterMs = 0
      local newestMs = nil
      if cost > 0 then newestMs = effectiveMs elseif used > 0 then newestMs = log.newestMs end
      out.resetMs = newestMs and newestMs + windowMs - nowMs or 0
      if not input.commit or cost <= 0 then return end
      log = log or { total = 0, sequence = 0, size = 0, newestMs = nowMs }
      self.dropExpired(self, key, log, cutoffMs)
      if log.size >= math.max(1, math.floor(limit)) then
        -- The log is full (fractional costs): merge into the newest entry, at this call's time.
        local member = self.newest(key)
        redis.call('ZREM', key, member)
        redis.call('ZADD', key, effectiveMs,
          string.sub(member, 1, 17) .. string.format('%.17g', self.entryCost(member) + cost))
      else
        log.sequence = log.sequence + 1
        redis.call('ZADD', key, effectiveMs, string.format('%016d %.17g', log.sequence, cost))
        log.size = log.size + 1
      end
      log.total = log.total + cost
      self.save(key, log, windowMs)
      return
    end
    out.allowed = false
    out.remaining = math.max(0, limit - used)
    if cost > limit then
      out.retryAfterMs = math.huge
    else
      -- The time of the live entry (oldest first) whose leaving frees enough units.
      local needed, freed, offset = used + cost - limit, 0, 0
      local freedAtMs = log.newestMs
      local lower = '(' .. string.format('%.17g', cutoffMs)
      while true do
        local chunk = redis.call('ZRANGEBYSCORE', key, lower, '+inf', 'WITHSCORES', 'LIMIT', offset, 32)
        for i = 1, #chunk, 2 do
          freed = freed + self.entryCost(chunk[i])
          if freed + 1e-9 >= needed then
            freedAtMs = tonumber(chunk[i + 1])
            break
          end
        end
        if freed + 1e-9 >= needed or #chunk < 2 * 32 then break end
        offset = offset + 32
      end
      out.retryAfterMs = freedAtMs + windowMs - nowMs
    end
    out.resetMs = used > 0 and log.newestMs + windowMs - nowMs or 0
  end,
  refund = function(key, nowMs, cost, c, token, self)
    local windowMs = c[2]
    local log = self.load(key)
    if not log then return end
    self.dropExpired(self, key, log, math.max(nowMs, log.newestMs) - windowMs)
    -- Give back the most recent units first.
    local left = cost
    while left > 0 and log.size > 0 do
      local member = self.newest(key)
      local entryCost = self.entryCost(member)
      local taken = math.min(left, entryCost)
      left = left - taken
      if entryCost - taken <= 1e-9 then
        log.total = log.total - entryCost
        log.size = log.size - 1
        redis.call('ZREM', key, member)
      else
        local _, timeMs = self.newest(key)
        redis.call('ZREM', key, member)
        redis.call('ZADD', key, timeMs, string.sub(member, 1, 17) .. string.format('%.17g', entryCost - taken))
        log.total = log.total - taken
      end
    end
    if log.size > 0 then log.total = math.max(0, log.total) end
    self.save(key, log, windowMs)
  end,
  lastUpdate = function(key, c, self)
    local log = self.load(key)
    return log and log.newestMs or nil
  end,
}`,
};
