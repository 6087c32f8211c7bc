// SPDX-License-Identifier: Apache-2.0

/// The Lua scripts that read and change the shared state, each atomic on the
/// Redis server and run with EVALSHA (EVAL when the server does not have it).
/// Every time in them is Redis's own (`TIME`), so the clocks of the machines
/// sharing it do not matter.
enum SharedScripts {
    static let now = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

        """

    /// For each model (3 keys: cooldown, in flight, usage; ARGV[i] "1" when
    /// its load is wanted): cooldown remaining, failures, calls in flight and
    /// the usage hash. Reads only.
    static let read = now + """
        local out = {now}
        for i = 1, #ARGV do
          local k = (i - 1) * 3
          local cd = redis.call('HMGET', KEYS[k + 1], 'f', 'u')
          local rem = (tonumber(cd[2]) or 0) - now
          if rem < 0 then rem = 0 end
          out[#out + 1] = rem
          out[#out + 1] = tonumber(cd[1]) or 0
          if ARGV[i] == '1' then
            out[#out + 1] = redis.call('ZCOUNT', KEYS[k + 2], '(' .. now, '+inf')
            out[#out + 1] = redis.call('HGETALL', KEYS[k + 3])
          else
            out[#out + 1] = 0
            out[#out + 1] = {}
          end
        end
        return out
        """

    /// An attempt starts. KEYS: in flight, usage, rate, the member's
    /// tombstone. ARGV: member ("" when the load is not tracked), lease ms,
    /// rate interval ms ("" for no rate limit), burst. Returns the ms to wait
    /// for the rate limit (GCRA: the slot is reserved, as the local token
    /// bucket does). Start and end go out without waiting, maybe on two
    /// connections: an end that came first left a tombstone, and the start
    /// then does not add the member.
    static let begin = now + """
        if ARGV[1] ~= '' then
          local lease = tonumber(ARGV[2])
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
          if redis.call('DEL', KEYS[4]) == 0 then
            redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
            redis.call('PEXPIRE', KEYS[1], lease + 1000)
          end
          local sec = math.floor(now / 1000)
          redis.call('HINCRBY', KEYS[2], 'r:' .. sec, 1)
          redis.call('PEXPIRE', KEYS[2], 61000)
          if redis.call('HLEN', KEYS[2]) > 124 then
            for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
              local s = tonumber(string.sub(f, 3))
              if s == nil or s <= sec - 60 then redis.call('HDEL', KEYS[2], f) end
            end
          end
        end
        if ARGV[3] == '' then return 0 end
        local interval = tonumber(ARGV[3])
        local burst = tonumber(ARGV[4])
        local tat = tonumber(redis.call('GET', KEYS[3])) or now
        if tat < now then tat = now end
        local newtat = tat + interval
        redis.call('SET', KEYS[3], string.format('%.3f', newtat), 'PX', math.ceil(newtat - now) + 1000)
        local wait = newtat - burst * interval - now
        if wait <= 0 then return 0 end
        return math.ceil(wait - 0.000001)
        """

    /// A reservation's wait was given up. KEYS: rate. ARGV: interval ms.
    static let cancel = now + """
        local tat = tonumber(redis.call('GET', KEYS[1]))
        if tat == nil then return 0 end
        tat = tat - tonumber(ARGV[1])
        if tat <= now then redis.call('DEL', KEYS[1]) return 0 end
        redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
        return 0
        """

    /// An attempt or call ended. KEYS: in flight, usage, cooldown, the
    /// member's tombstone. ARGV: member ("" none), tokens, outcome ("s":
    /// clear the cooldown, "f": a failure that cools down, "": neither), base
    /// ms, multiplier, max ms. Returns the cooldown started, in ms (0 for none).
    static let end = now + """
        if ARGV[1] ~= '' and redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
          redis.call('SET', KEYS[4], '1', 'PX', 600000)
        end
        local tokens = tonumber(ARGV[2]) or 0
        if tokens > 0 then
          redis.call('HINCRBY', KEYS[2], 't:' .. math.floor(now / 1000), tokens)
          redis.call('PEXPIRE', KEYS[2], 61000)
        end
        if ARGV[3] == 's' then
          redis.call('DEL', KEYS[3])
          return 0
        end
        if ARGV[3] ~= 'f' then return 0 end
        local base, mult, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
        local cd = redis.call('HMGET', KEYS[3], 'f', 'u')
        local f = 1
        local old, untilMs = tonumber(cd[1]), tonumber(cd[2])
        if old ~= nil and untilMs ~= nil and now < untilMs + max then f = old + 1 end
        local delay = base
        if f > 1 then
          delay = base * (mult ^ (f - 1))
          if delay ~= delay or delay > max then delay = max end
          delay = math.floor(delay + 0.5)
        end
        redis.call('HSET', KEYS[3], 'f', f, 'u', now + delay)
        redis.call('PEXPIRE', KEYS[3], delay + max)
        return delay
        """
}
