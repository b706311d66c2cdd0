/**
 * The Lua twin of src/limiters/concurrency.ts (the same holder operations in the same order), run by the decision
 * script.
 * KEYS: `prefix:concurrency:name:{userKey}`: a ZSET of holders: score = lease expiry (ms), member = a 16-digit
 *   sequence number, the holder's cost (%.17g) and its token, space-separated (the sequence keeps insertion order,
 *   which is also expiry order, among equal expiries). And `<that key>:holders`: a HASH, token -> member, plus
 *   "=use" (units in use), "=exp" (the latest lease expiry), "=upd" (last update), "=seq" (the sequence). Tokens
 *   never start with "=". Both absent = no holders.
 * ARGV (this policy's config, in order): max, leaseMs. The group's token names the holder (release refunds by it).
 */
import type { LuaAlgorithm } from './lua-algorithm.js';

export const concurrencyLua: LuaAlgorithm = {
  name: 'concurrency',
  configFields: ['max', 'leaseMs'],
  keySuffixes: [':holders'],
  sha1: '26ef500c0f612352f3e8aef4e876a49847aa0658',
  lua: `{
  kind = 'object',
  extraKeys = 1,
  holderCost = function(member)
    return tonumber(string.match(member, '^%d+ (%S+)'))
  end,
  holderToken = function(member)
    return string.match(member, '^%d+ %S+ (.*)$')
  end,
  member = function(sequence, cost, token)
    return string.format('%016d %.17g ', sequence, cost) .. token
  end,
  -- The state: { inUse, lastExpiresAtMs, lastUpdateMs, sequence, count } or nil when no holder exists.
  load = function(key)
    local meta = redis.call('HMGET', key .. ':holders', '=use', '=exp', '=upd', '=seq')
    if not meta[1] then return nil end
    local count = redis.call('ZCARD', key)
    if count == 0 then return nil end
    return {
      inUse = tonumber(meta[1]),
      lastExpiresAtMs = tonumber(meta[2]),
      lastUpdateMs = tonumber(meta[3]),
      sequence = tonumber(meta[4]),
      count = count,
    }
  end,
  -- Drops the holders whose lease has ended, oldest first, and keeps the sum exact (normalize).
  dropExpired = function(self, key, state, nowMs)
    local expired = redis.call('ZRANGEBYSCORE', key, '-inf', nowMs)
    if #expired > 0 then
      local tokens = {}
      for i = 1, #expired do
        state.inUse = state.inUse - self.holderCost(expired[i])
        tokens[i] = self.holderToken(expired[i])
      end
      redis.call('ZREMRANGEBYSCORE', key, '-inf', nowMs)
      redis.call('HDEL', key .. ':holders', unpack(tokens))
      state.count = state.count - #expired
    end
    if state.count == 0 or state.inUse < 0 then state.inUse = 0 end
  end,
  save = function(key, state, nowMs)
    if state.count <= 0 then
      redis.call('DEL', key, key .. ':holders')
      return
    end
    if nowMs > state.lastUpdateMs then state.lastUpdateMs = nowMs end
    redis.call('HSET', key .. ':holders', '=use', state.inUse, '=exp', state.lastExpiresAtMs,
      '=upd', state.lastUpdateMs, '=seq', state.sequence)
    expireKey(key, state.lastExpiresAtMs)
    expireKey(key .. ':holders', state.lastExpiresAtMs)
  end,
  step = function(key, input, c, out, self)
    local nowMs, cost, token = input.nowMs, input.cost, input.token
    local max, leaseMs = c[1], c[2]
    local state = self.load(key)
    local inUse = 0
    if state then
      local expiredUnits = 0
      local expired = redis.call('ZRANGEBYSCORE', key, '-inf', nowMs)
      for i = 1, #expired do expiredUnits = expiredUnits + self.holderCost(expired[i]) end
      inUse = math.max(0, state.inUse - expiredUnits)
    end
    local available = max - inUse
    out.waitMs = 0
    if cost <= available + 1e-9 then
      out.allowed = true
      out.remaining = math.max(0, available - cost)
      out.retryAfterMs = 0
    else
      out.allowed = false
      out.remaining = math.max(0, available)
      if cost > max then
        out.retryAfterMs = math.huge
      else
        -- The wait until enough leases end for the missing units to be free.
        local needUnits, freed, offset = inUse + cost - max, 0, 0
        local waitMs = math.max(0, state.lastExpiresAtMs - nowMs)
        local lower = '(' .. string.format('%.17g', nowMs)
        while true do
          local chunk = redis.call('ZRANGEBYSCORE', key, lower, '+inf', 'WITHSCORES', 'LIMIT', offset, 32)
          local found = false
          for i = 1, #chunk, 2 do
            freed = freed + self.holderCost(chunk[i])
            if freed + 1e-9 >= needUnits then
              waitMs = tonumber(chunk[i + 1]) - nowMs
              found = true
              break
            end
          end
          if found or #chunk < 2 * 32 then break end
          offset = offset + 32
        end
        out.retryAfterMs = waitMs
      end
    end
    if not input.commit then
      out.resetMs = state and math.max(0, state.lastExpiresAtMs - nowMs) or 0
      return
    end
    if state then self.dropExpired(self, key, state, nowMs) end
    if out.allowed and cost > 0 then
      state = state or { inUse = 0, lastExpiresAtMs = 0, lastUpdateMs = nowMs, sequence = 0, count = 0 }
      state.sequence = state.sequence + 1
      if token == '' then token = '#' .. state.sequence end
      local existing = redis.call('HGET', key .. ':holders', token)
      local existingCost = 0
      if existing then
        existingCost = self.holderCost(existing)
        redis.call('ZREM', key, existing)
        state.count = state.count - 1
      end
      -- A clock that steps backwards must not put a lease before an earlier holder's: keep expiry order.
      local expiresAtMs = math.max(nowMs + leaseMs, state.lastExpiresAtMs)
      local member = self.member(state.sequence, cost + existingCost, token)
      redis.call('ZADD', key, expiresAtMs, member)
      redis.call('HSET', key .. ':holders', token, member)
      state.count = state.count + 1
      state.inUse = state.inUse + cost
      state.lastExpiresAtMs = expiresAtMs
    end
    if state == nil or state.count == 0 then
      out.resetMs = 0
      if state then self.save(key, state, nowMs) end
      return
    end
    self.save(key, state, nowMs)
    out.resetMs = math.max(0, state.lastExpiresAtMs - nowMs)
  end,
  refund = function(key, nowMs, cost, c, token, self)
    local state = self.load(key)
    if not state then return end
    self.dropExpired(self, key, state, nowMs)
    if token ~= '' then
      local member = redis.call('HGET', key .. ':holders', token)
      if member then
        redis.call('ZREM', key, member)
        redis.call('HDEL', key .. ':holders', token)
        state.inUse = state.inUse - self.holderCost(member)
        state.count = state.count - 1
      end
    else
      -- No token (a refund after consume): free the oldest holders, splitting the last one if needed.
      local left = cost
      while left > 1e-9 and state.count > 0 do
        local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
        local member, expiresAtMs = oldest[1], tonumber(oldest[2])
        local holderCost = self.holderCost(member)
        local holderToken = self.holderToken(member)
        redis.call('ZREM', key, member)
        if holderCost <= left + 1e-9 then
          redis.call('HDEL', key .. ':holders', holderToken)
          state.inUse = state.inUse - holderCost
          state.count = state.count - 1
          left = left - holderCost
        else
          local split = string.sub(member, 1, 16) .. ' ' .. string.format('%.17g', holderCost - left) .. ' ' .. holderToken
          redis.call('ZADD', key, expiresAtMs, split)
          redis.call('HSET', key .. ':holders', holderToken, split)
          state.inUse = state.inUse - left
          left = 0
        end
      end
    end
    if state.count == 0 or state.inUse < 0 then state.inUse = 0 end
    self.save(key, state, nowMs)
  end,
  lastUpdate = function(key, c, self)
    local state = self.load(key)
    return state and state.lastUpdateMs or nil
  end,
}`,
};
