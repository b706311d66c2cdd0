/**
 * The frame of the decision script: helpers shared by the algorithm twins (before them) and the dispatcher that
 * runs groups of policies (after them). script.ts puts `ALGORITHMS[id] = <twin>` lines in between.
 *
 * KEYS: one key per policy, in the order the groups of ARGV name them: `prefix:algorithm:name:{userKey}`. All keys
 *   of one script call share the hash tag's slot in a Cluster (the store batches by slot).
 * ARGV[1]: extra TTL slack in ms added to every expiry (absorbs clock differences in `clock: 'client'` mode).
 * ARGV[2..]: groups, each: op ('d' decide, 'i' inspect, 'r' refund), policy count n, nowMs ('' = Redis TIME),
 *   cost, maxWaitMs, token; then n policies, each: algorithm id, config count m, m config numbers.
 * A 'd' group is all-or-nothing: with several policies each is checked without charging, and all are charged only
 *   if all admit. Groups run one after another, so a batch of groups is a batch of independent decisions.
 * Reply: n strings per group. 'd'/'i': "allowed remaining resetMs retryAfterMs waitMs lastUpdateMs" ('-' for no
 *   lastUpdate; numbers in %.17g, so fractions survive), 'r': "ok"; a group that failed: "E <message>" for each.
 */
export const DISPATCHER_PRELUDE = `-- sluice decision script (src/stores/lua/dispatcher.lua.ts)
if redis.replicate_commands then redis.replicate_commands() end
local fmt, tonumber, tostring, concat, huge = string.format, tonumber, tostring, table.concat, math.huge
local slackMs = tonumber(ARGV[1])
local nowMs = 0
local redisNowMs = nil
local function redisTime()
  if redisNowMs == nil then
    local t = redis.call('TIME')
    redisNowMs = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  end
  return redisNowMs
end
local function num(x)
  if x == huge then return 'inf' elseif x == -huge then return '-inf' elseif x ~= x then return 'nan' end
  return fmt('%.17g', x)
end
-- Sets the key to vanish once its state is equivalent to fresh (expiresAtMs), or deletes it when it already is.
local function expireKey(key, expiresAtMs)
  if expiresAtMs <= nowMs then
    redis.call('DEL', key)
  elseif expiresAtMs == huge then
    redis.call('PERSIST', key)
  else
    redis.call('PEXPIRE', key, math.ceil(expiresAtMs - nowMs) + slackMs)
  end
end
local ALGORITHMS = {}
`;

export const DISPATCHER_MAIN = `
local function loadNumeric(key, size)
  local raw = redis.call('GET', key)
  local s, n = {}, 0
  if raw then
    for v in string.gmatch(raw, '[^ ]+') do
      n = n + 1
      s[n] = tonumber(v)
    end
  end
  for i = n + 1, size do s[i] = 0 end
  return s, raw ~= false
end

local function saveNumeric(alg, key, s, before, existed, c)
  local changed, fresh = false, true
  for i = 1, alg.size do
    if s[i] ~= before[i] then changed = true end
    if s[i] ~= 0 then fresh = false end
  end
  if not changed then return end
  local expiresAtMs = fresh and -huge or alg.expiresAt(s, c)
  if expiresAtMs <= nowMs then
    if existed then redis.call('DEL', key) end
    return
  end
  local parts = {}
  for i = 1, alg.size do parts[i] = fmt('%.17g', s[i]) end
  if expiresAtMs == huge then
    redis.call('SET', key, concat(parts, ' '))
  else
    redis.call('SET', key, concat(parts, ' '), 'PX', math.ceil(expiresAtMs - nowMs) + slackMs)
  end
end

local input = { nowMs = 0, cost = 0, commit = false, maxWaitMs = 0, token = '' }
local out = { allowed = false, remaining = 0, resetMs = 0, retryAfterMs = 0, waitMs = 0 }

-- Runs one step; returns the key's last update time when asked for it (inspect).
local function step(alg, key, c, commit, wantLastUpdate)
  input.commit = commit
  if alg.kind == 'numeric' then
    local s, existed = loadNumeric(key, alg.size)
    local before = commit and { unpack(s) }
    alg.step(s, input, c, out)
    if commit then saveNumeric(alg, key, s, before, existed, c) end
    if wantLastUpdate and existed and alg.lastUpdate then return alg.lastUpdate(s) end
    return nil
  end
  alg.step(key, input, c, out)
  if wantLastUpdate and alg.lastUpdate then return alg.lastUpdate(key, c) end
  return nil
end

local function outcome(lastUpdate)
  return (out.allowed and '1 ' or '0 ') .. num(out.remaining) .. ' ' .. num(out.resetMs) .. ' ' ..
    num(out.retryAfterMs) .. ' ' .. num(out.waitMs) .. ' ' .. (lastUpdate and num(lastUpdate) or '-')
end

local function refund(alg, key, c)
  if alg.kind == 'numeric' then
    local s, existed = loadNumeric(key, alg.size)
    if not existed then return end
    local before = { unpack(s) }
    alg.refund(s, nowMs, input.cost, c)
    saveNumeric(alg, key, s, before, existed, c)
  else
    alg.refund(key, nowMs, input.cost, c, input.token)
  end
end

local function runGroup(op, n, algs, configs, keys)
  local results = {}
  if op == 'r' then
    for p = 1, n do
      refund(algs[p], keys[p], configs[p])
      results[p] = 'ok'
    end
  elseif op == 'i' then
    for p = 1, n do results[p] = outcome(step(algs[p], keys[p], configs[p], false, true)) end
  elseif n == 1 then
    step(algs[1], keys[1], configs[1], true, false)
    results[1] = outcome(nil)
  else
    local all = true
    for p = 1, n do
      step(algs[p], keys[p], configs[p], false, false)
      results[p] = outcome(nil)
      if not out.allowed then all = false end
    end
    if all then
      for p = 1, n do
        step(algs[p], keys[p], configs[p], true, false)
        results[p] = outcome(nil)
      end
    end
  end
  return results
end

local reply, argi, keyi, nargs = {}, 2, 1, #ARGV
while argi <= nargs do
  local op, n = ARGV[argi], tonumber(ARGV[argi + 1])
  nowMs = ARGV[argi + 2] == '' and redisTime() or tonumber(ARGV[argi + 2])
  input.nowMs = nowMs
  input.cost = tonumber(ARGV[argi + 3])
  input.maxWaitMs = tonumber(ARGV[argi + 4])
  input.token = ARGV[argi + 5]
  argi = argi + 6
  local algs, configs, keys = {}, {}, {}
  local unknown = nil
  for p = 1, n do
    local alg = ALGORITHMS[tonumber(ARGV[argi])]
    if alg == nil then unknown = ARGV[argi] end
    local m, c = tonumber(ARGV[argi + 1]), {}
    for j = 1, m do c[j] = tonumber(ARGV[argi + 1 + j]) end
    argi = argi + 2 + m
    algs[p], configs[p], keys[p] = alg, c, KEYS[keyi]
    keyi = keyi + 1
  end
  local ok, results
  if unknown then
    ok, results = false, 'unknown algorithm id ' .. tostring(unknown)
  else
    ok, results = pcall(runGroup, op, n, algs, configs, keys)
  end
  if ok then
    for p = 1, n do reply[#reply + 1] = results[p] end
  else
    local message = type(results) == 'table' and (results.err or 'error') or tostring(results)
    for _ = 1, n do reply[#reply + 1] = 'E ' .. message end
  end
end
return reply
`;
