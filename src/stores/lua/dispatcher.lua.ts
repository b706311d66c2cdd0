/**
 * The frame of the decision script: helpers shared by the algorithm twins (before them) and the dispatcher that
 * runs groups of policies (after them). script.ts puts `ALGORITHMS[id] = function() return <twin> end` lines in
 * between.
 *
 * KEYS: one key per policy of each group, in group order: `prefix:algorithm:name:{userKey}`. All keys of one
 *   script call share one Cluster slot (the store batches by slot).
 * ARGV[1]: extra TTL slack in ms added to every expiry (absorbs clock skew in `clock: 'client'` mode).
 * ARGV[2]: P, the number of policies used by this call; then P policies, each: algorithm id, config count m,
 *   m config numbers.
 * Then groups, each one of:
 *   k (a number)                        decide policy k for one key with cost 1 (the common case: one argument);
 *   'd', n, cost, maxWaitMs, token, k1..kn   decide n policies for one key, all-or-nothing;
 *   'i', n, k1..kn                      inspect (a step with cost 0, nothing charged);
 *   'r', n, cost, token, k1..kn         refund;
 *   'n', nowMs                          the time for the groups after it ('' = Redis TIME, the initial value).
 * Each decide/inspect/refund group takes its keys from KEYS in order: per policy its key, then the extra keys of
 *   an algorithm that keeps two structures (`extraKeys`; their names are the key plus a suffix, see keySuffixes). A 'd' group with several policies checks
 *   each without charging and charges all only if all admit. Groups run one after another, so a batch of groups
 *   is a batch of independent decisions.
 * Reply, flat, per group: decide: per policy three integers, rounded the way decisionFrom() rounds (-1 = Infinity):
 *   remaining * 2 + allowed (0/1), resetMs, and waitMs when allowed or retryAfterMs when not; inspect: per policy one string "available resetMs
 *   lastUpdateMs" (%.17g, '-' for no lastUpdateMs); refund: 1. A group that failed is one string "E <message>".
 * Numeric states are stored as little-endian float64s (struct.pack), so they survive exactly, followed by one more
 *   float64: the time up to which the key's TTL already covers it (see writeNumeric). Within one call every group
 *   works on one copy of each numeric state, written back once at the end.
 */
export const DISPATCHER_PRELUDE = `-- sluice decision script (src/stores/lua/dispatcher.lua.ts)
if redis.replicate_commands then redis.replicate_commands() end
local fmt, tonumber, tostring, huge, floor, ceil = string.format, tonumber, tostring, math.huge, math.floor, math.ceil
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
-- Sets the key to vanish once its state is equivalent to fresh (expiresAtMs), or deletes it when it already is.
local function expireKey(key, expiresAtMs)
  if expiresAtMs <= nowMs then
    redis.call('DEL', key)
  elseif expiresAtMs == huge then
    redis.call('PERSIST', key)
  else
    redis.call('PEXPIRE', key, ceil(expiresAtMs - nowMs) + slackMs)
  end
end
local ALGORITHMS = {}
`;

export const DISPATCHER_MAIN = `
-- Algorithms are built when a call first uses them (building all of them would cost every call).
local instances = {}
local function algorithm(id)
  local alg = instances[id]
  if alg == nil then
    local make = id and ALGORITHMS[id]
    if make == nil then return nil end
    alg = make()
    if alg.kind == 'numeric' then alg.format = '<' .. string.rep('d', alg.size + 1) end
    instances[id] = alg
  end
  return alg
end
local MAX_INTEGER = 9007199254740991
local function num(x)
  if x == huge then return 'inf' elseif x == -huge then return '-inf' elseif x ~= x then return 'nan' end
  return fmt('%.17g', x)
end
-- decisionFrom()'s rounding: ceilMs for times, -1 for Infinity.
local function ceilMs(ms)
  if ms == huge then return -1 end
  ms = ceil(ms - 1e-7)
  if ms < 0 then return 0 elseif ms > MAX_INTEGER then return MAX_INTEGER end
  return ms
end

-- A numeric state is stored as its slots plus one more float64: coveredUntilMs, the time (on the script's clock)
-- up to which the key's TTL already keeps it. A write whose state expires before that keeps the TTL (SET KEEPTTL);
-- otherwise the TTL is set with headroom (up to a minute more), so a busy key pays for PX about once per headroom.
local MAX_HEADROOM_MS = 60000
-- Numeric states read by this call, by key. Every group of the call works on this copy (a hot key is read once);
-- each changed key is written once, when all groups have run.
local numericStates, changedKeys, befores = {}, {}, {}

local function loadNumeric(alg, key)
  local state = numericStates[key]
  if state then return state end
  local raw = redis.call('GET', key)
  local size, s = alg.size, {}
  state = { s = s, stored = raw ~= false, present = raw ~= false, coveredUntilMs = 0, changed = false }
  if raw and #raw == (size + 1) * 8 then
    local v1, v2, v3, v4 = struct.unpack(alg.format, raw)
    if size == 1 then
      s[1], state.coveredUntilMs = v1, v2
    elseif size == 2 then
      s[1], s[2], state.coveredUntilMs = v1, v2, v3
    elseif size == 3 then
      s[1], s[2], s[3], state.coveredUntilMs = v1, v2, v3, v4
    else
      local values = { struct.unpack(alg.format, raw) }
      for i = 1, size do s[i] = values[i] end
      state.coveredUntilMs = values[size + 1]
    end
  else
    for i = 1, size do s[i] = 0 end
  end
  numericStates[key] = state
  return state
end

local function remember(s, size)
  for i = 1, size do befores[i] = s[i] end
end

-- After a step or refund that may have changed the state: marks the key for writing.
local function noteChange(alg, key, state, c)
  local s, changed, fresh = state.s, false, true
  for i = 1, alg.size do
    if s[i] ~= befores[i] then changed = true end
    if s[i] ~= 0 then fresh = false end
  end
  if not changed then return end
  state.present = not fresh
  state.alg, state.c, state.writtenAtMs = alg, c, nowMs
  if not state.changed then
    state.changed = true
    changedKeys[#changedKeys + 1] = key
  end
end

-- Writes a changed state, or deletes it when it is as good as fresh (its expiry has passed).
local function writeNumeric(key, state)
  local alg, s, writtenAtMs = state.alg, state.s, state.writtenAtMs
  local size, fresh = alg.size, true
  for i = 1, size do
    if s[i] ~= 0 then fresh = false end
  end
  local expiresAtMs = fresh and -huge or alg.expiresAt(s, state.c)
  if expiresAtMs <= writtenAtMs then
    if state.stored then redis.call('DEL', key) end
    return
  end
  if expiresAtMs == huge then
    s[size + 1] = huge
    redis.call('SET', key, struct.pack(alg.format, unpack(s, 1, size + 1)))
  elseif state.stored and expiresAtMs <= state.coveredUntilMs and state.coveredUntilMs ~= huge then
    s[size + 1] = state.coveredUntilMs
    redis.call('SET', key, struct.pack(alg.format, unpack(s, 1, size + 1)), 'KEEPTTL')
  else
    local neededMs = expiresAtMs - writtenAtMs
    local ttlMs = ceil(neededMs + (neededMs < MAX_HEADROOM_MS and neededMs or MAX_HEADROOM_MS))
    s[size + 1] = writtenAtMs + ttlMs
    redis.call('SET', key, struct.pack(alg.format, unpack(s, 1, size + 1)), 'PX', ttlMs + slackMs)
  end
end

local input = { nowMs = 0, cost = 0, commit = false, maxWaitMs = 0, token = '' }
local out = { allowed = false, remaining = 0, resetMs = 0, retryAfterMs = 0, waitMs = 0 }

-- Runs one step into out; returns the key's last update time when asked for it (inspect).
local function step(alg, key, c, commit, wantLastUpdate)
  input.commit = commit
  if alg.kind == 'numeric' then
    local state = loadNumeric(alg, key)
    if commit then remember(state.s, alg.size) end
    alg.step(state.s, input, c, out, alg)
    if commit then noteChange(alg, key, state, c) end
    if wantLastUpdate and state.present and alg.lastUpdate then return alg.lastUpdate(state.s) end
    return nil
  end
  alg.step(key, input, c, out, alg)
  if wantLastUpdate and alg.lastUpdate then return alg.lastUpdate(key, c, alg) end
  return nil
end

local function refund(alg, key, c)
  if alg.kind == 'numeric' then
    local state = loadNumeric(alg, key)
    if not state.present then return end
    remember(state.s, alg.size)
    alg.refund(state.s, nowMs, input.cost, c, alg)
    noteChange(alg, key, state, c)
  else
    alg.refund(key, nowMs, input.cost, c, input.token, alg)
  end
end

local reply = {}
local MAX_REMAINING = 4503599627370495
-- Three integers: remaining * 2 + allowed; resetMs; waitMs when allowed, else retryAfterMs.
local function decision(at)
  local allowed = out.allowed
  local remaining = floor(out.remaining + 1e-9)
  if remaining < 0 then remaining = 0 elseif remaining > MAX_REMAINING then remaining = MAX_REMAINING end
  reply[at] = remaining * 2 + (allowed and 1 or 0)
  reply[at + 1] = ceilMs(out.resetMs)
  if allowed then
    reply[at + 2] = out.waitMs > 0 and ceilMs(out.waitMs) or 0
  else
    reply[at + 2] = ceilMs(out.retryAfterMs)
  end
end

-- The group's policies: algorithms, configs and keys, reused from group to group.
local gAlgs, gConfigs, gKeys = {}, {}, {}

-- Appends the group's results to reply after index at; returns the new length.
local function runGroup(op, n, at)
  if op == 'r' then
    for p = 1, n do refund(gAlgs[p], gKeys[p], gConfigs[p]) end
    reply[at + 1] = 1
    return at + 1
  elseif op == 'i' then
    for p = 1, n do
      local lastUpdate = step(gAlgs[p], gKeys[p], gConfigs[p], false, true)
      reply[at + p] = num(out.remaining) .. ' ' .. num(out.resetMs) .. ' ' .. (lastUpdate and num(lastUpdate) or '-')
    end
    return at + n
  elseif n == 1 then
    step(gAlgs[1], gKeys[1], gConfigs[1], true, false)
    decision(at + 1)
    return at + 3
  end
  local all = true
  for p = 1, n do
    step(gAlgs[p], gKeys[p], gConfigs[p], false, false)
    decision(at + 3 * (p - 1) + 1)
    if not out.allowed then all = false end
  end
  if all then
    for p = 1, n do
      step(gAlgs[p], gKeys[p], gConfigs[p], true, false)
      decision(at + 3 * (p - 1) + 1)
    end
  end
  return at + 3 * n
end

local policyAlgs, policyConfigs = {}, {}
local policyCount = tonumber(ARGV[2])
local argi = 3
for p = 1, policyCount do
  policyAlgs[p] = algorithm(tonumber(ARGV[argi]))
  local m, c = tonumber(ARGV[argi + 1]), {}
  for j = 1, m do c[j] = tonumber(ARGV[argi + 1 + j]) end
  policyConfigs[p] = c
  argi = argi + 2 + m
end

local nowArg = ''
local length, keyi, nargs = 0, 1, #ARGV
while argi <= nargs do
  local op = ARGV[argi]
  local n = 1
  local index = tonumber(op)
  if op == 'n' then
    nowArg = ARGV[argi + 1]
    argi = argi + 2
    n = 0
  elseif index then
    op = 'd'
    input.cost, input.maxWaitMs, input.token = 1, 0, ''
    gAlgs[1], gConfigs[1] = policyAlgs[index], policyConfigs[index]
    argi = argi + 1
  else
    n = tonumber(ARGV[argi + 1])
    if op == 'd' then
      input.cost, input.maxWaitMs, input.token = tonumber(ARGV[argi + 2]), tonumber(ARGV[argi + 3]), ARGV[argi + 4]
      argi = argi + 5
    elseif op == 'r' then
      input.cost, input.maxWaitMs, input.token = tonumber(ARGV[argi + 2]), 0, ARGV[argi + 3]
      argi = argi + 4
    else
      input.cost, input.maxWaitMs, input.token = 0, 0, ''
      argi = argi + 2
    end
    for p = 1, n do
      index = tonumber(ARGV[argi])
      gAlgs[p], gConfigs[p] = policyAlgs[index], policyConfigs[index]
      argi = argi + 1
    end
  end
  if n > 0 then
    for p = 1, n do
      -- Unknown ids would misalign every later group's keys: refuse the whole call.
      if gAlgs[p] == nil then return redis.error_reply('ERR sluice: unknown algorithm or policy index') end
      gKeys[p] = KEYS[keyi]
      keyi = keyi + 1 + (gAlgs[p].extraKeys or 0)
    end
    nowMs = nowArg == '' and redisTime() or tonumber(nowArg)
    input.nowMs = nowMs
    local ok, result = pcall(runGroup, op, n, length)
    if ok then
      length = result
    else
      length = length + 1
      reply[length] = 'E ' .. (type(result) == 'table' and (result.err or 'error') or tostring(result))
    end
  end
end
for i = 1, #changedKeys do writeNumeric(changedKeys[i], numericStates[changedKeys[i]]) end
-- A failed group may have left entries beyond its end.
for i = #reply, length + 1, -1 do reply[i] = nil end
return reply
`;
