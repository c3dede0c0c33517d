-- wrk script: decisions.lua's requests, each with an Idempotency-Key of its own (16 random
-- hex digits, as a client's UUID would be random), so that every decision also inserts a
-- key at a random place in the keys' B-tree. A change to the store is measured with both
-- scripts: one that helps append-only writes may hurt random ones.
-- decisions.lua is loaded from beside this file and its requests are sent with the key
-- added after the request line, so the two loads cannot drift apart.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "decisions.lua")

local plain_init, plain_request = init, request

function init(args)
  plain_init(args)
  math.randomseed(os.time() * 16 + tid)
end

function request()
  local plain = plain_request()
  local line_end = plain:find("\r\n", 1, true) + 1
  local key = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  return plain:sub(1, line_end) .. "Idempotency-Key: " .. key .. "\r\n" .. plain:sub(line_end + 1)
end
