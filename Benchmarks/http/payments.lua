-- wrk script: POST /v1/payments, frictionless 3DS payments with a sandbox card (the
-- whole flow: validation, the acquirer's decision, AReq/ARes through the simulated DS and
-- the issuer's engine, authorisation with the CAVV check, and the payment, its trace and
-- its audit event committed). Answers other than 201 are counted and printed.
-- Each wrk thread has its own Lua state, and done() runs in yet another one: the counts are
-- collected from the threads there.
local counter = 0
errors = 0  -- a global: thread:get reads only globals
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- The merchant's key, from BENCH_API_KEY (Benchmarks/http/keys.sh makes one).
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("BENCH_API_KEY") or "")}

function request()
  counter = counter + 1
  local body = string.format(
    '{"source":{"type":"card","number":"4000010000000019","expiry_month":12,"expiry_year":2030},' ..
    '"amount":%d,"currency":"EUR","reference":"bench-%d",' ..
    '"3ds":{"enabled":true,"challenge_indicator":"no_challenge_requested"}}',
    1000 + (counter % 5000), counter)
  return wrk.format("POST", "/v1/payments", headers, body)
end

function response(status, headers, body)
  if status ~= 201 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local non201 = 0
  for _, thread in ipairs(threads) do non201 = non201 + thread:get("errors") end
  io.write(string.format("non-201 answers: %d\n", non201))
  io.write(string.format("p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
