-- wrk script for scripts/stress.sh: a mix of cached reads, cold symbols and error paths, with a
-- per-status tally and a hard cap on the number of requests (wrk itself only bounds time).
local paths = {
  "/MSFT/7",                          -- cached seed route
  "/v1/stocks/MSFT/daily?days=30",    -- cached /v1 read
  "/v1/stocks/IBM/quote",             -- quote path
  "/v1/stocks/ZZZZ/daily",            -- unknown symbol: 404 problem+json (no provider call twice)
  "/v1/stocks/BAD!!/daily",           -- malformed symbol: 400
  "/v1/stocks/MSFT/daily?from=2013-03-01&to=2013-01-01", -- inverted range: 400
  "/no/such/route/here",              -- unknown route: 404
}
local weights = { 40, 25, 10, 10, 5, 5, 5 }
local cold = { "AAPL", "GOOG", "FB", "IBM" }

local max_requests = tonumber(os.getenv("STRESS_MAX_REQUESTS_PER_THREAD") or "25000")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  statuses = {}
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

local function pick()
  local roll = math.random(100)
  for i, w in ipairs(weights) do
    if roll <= w then
      if i == 2 and math.random(4) == 1 then
        -- a cold symbol now and then: its first read loads from the store or the provider
        return "/v1/stocks/" .. cold[math.random(#cold)] .. "/daily?days=" .. math.random(1, 250)
      end
      return paths[i]
    end
    roll = roll - w
  end
  return paths[1]
end

function request()
  sent = sent + 1
  if sent > max_requests then
    wrk.thread:stop()
  end
  return wrk.format("GET", pick())
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local tally = thread:get("statuses")
    for status, count in pairs(tally) do
      total[status] = (total[status] or 0) + count
    end
  end
  io.write("\nstatus counts:\n")
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  for _, status in ipairs(keys) do
    io.write(string.format("  %d: %d\n", status, total[status]))
  end
  io.write(string.format("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("requests %d in %.1f s = %.0f req/s; socket errors: connect %d, read %d, write %d, timeout %d; non-2xx/3xx %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
end
