-- wrk script for evault's department paths. Configured through environment variables:
--   EVAULT_LOAD_TOKEN   department bearer token
--   EVAULT_LOAD_MODE    "read" (search + get, alternating) or "copy" (a new copy per request)
--   EVAULT_LOAD_HOLDERS holder ID numbers, comma-separated (read)
--   EVAULT_LOAD_IDS     license ids, comma-separated
-- At the end it prints one JSON line: requests, errors, seconds, latency percentiles (ms),
-- and "workers": answers counted by the X-Evault-Worker header (`evault serve
-- --worker-header`), by worker.

local token = os.getenv("EVAULT_LOAD_TOKEN")
local mode = os.getenv("EVAULT_LOAD_MODE") or "read"

local function split(s)
  local out = {}
  for item in string.gmatch(s or "", "[^,]+") do out[#out + 1] = item end
  return out
end

local holders = split(os.getenv("EVAULT_LOAD_HOLDERS"))
local ids = split(os.getenv("EVAULT_LOAD_IDS"))
local counter = 0
local thread_no = 0
local threads = {}

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
  threads[#threads + 1] = thread
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
  tid = tid or 0
end

function request()
  counter = counter + 1
  if mode == "copy" then
    local id = ids[(counter % #ids) + 1]
    local body = string.format(
      '{"purpose":"load test","case_no":"LOAD-%d-%d-%d"}', tid, os.time(), counter)
    return wrk.format("POST", "/v1/licenses/" .. id .. "/copies", nil, body)
  end
  if counter % 2 == 0 then
    local h = holders[(math.floor(counter / 2) % #holders) + 1]
    local body = string.format(
      '{"holder_id":"%s","purpose":"load test","case_no":"LOAD-%d"}', h, tid)
    return wrk.format("POST", "/v1/licenses/search", nil, body)
  end
  local id = ids[(counter % #ids) + 1]
  return wrk.format("GET", "/v1/licenses/" .. id .. "?purpose=load%20test&case_no=LOAD-" .. tid)
end

answered = {}  -- this thread's answers by worker (a global: thread:get copies it)

function response(status, headers, body)
  local worker = headers["x-evault-worker"]
  if worker then answered[worker] = (answered[worker] or 0) + 1 end
  if status >= 400 and first_error == nil then
    first_error = status .. " " .. string.sub(body or "", 1, 300)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  for _, thread in ipairs(threads) do
    local err = thread:get("first_error")
    if err then io.write("first error: " .. err .. "\n") break end
  end
  local workers = {}
  for _, thread in ipairs(threads) do
    for worker, n in pairs(thread:get("answered") or {}) do
      workers[worker] = (workers[worker] or 0) + n
    end
  end
  local counts = {}
  for worker, n in pairs(workers) do counts[#counts + 1] = string.format('"%s":%d', worker, n) end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
      .. '"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"workers":{%s}}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, table.concat(counts, ",")))
end
