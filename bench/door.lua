-- wrk script for the door: staff search for each attendee, then check them in, once each;
-- wrk stops itself after the last check-in is answered.
--
-- Usage: wrk -t1 -cN -d600s -s bench/door.lua <base url> -- <attendees file> <cookie header> <csrf token> <origin>
-- Each line of the attendees file: search path, check-in path (tab-separated).
-- Searches are answered 200, check-ins 302; once all are sent, connections ask for HEAD of the
-- bare view (405), which is not counted. Latency percentiles are wrk's, over searches and check-ins.

local ffi = require("ffi")
ffi.cdef [[
int kill(int pid, int sig);
int getpid(void);
]]
local SIGINT = 2

-- Globals: done() reads them with thread:get().
paths, sent, answered, searches, checkins, expected, other = {}, 0, 0, 0, 0, 0, ""
probed = false
local statuses = {}
local headers, body_prefix

function init(args)
  for line in io.lines(args[1]) do
    local search, check_in = line:match("([^\t]*)\t([^\t]*)")
    paths[#paths + 1] = { search = search, check_in = check_in }
  end
  expected = #paths
  headers = {
    ["Cookie"] = args[2],
    ["X-Forwarded-Proto"] = "https",
    ["Origin"] = args[4],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  body_prefix = "csrfmiddlewaretoken=" .. args[3] .. "&next="
end

local function filler()
  return wrk.format("HEAD", "/__bench__/bare/", { ["X-Forwarded-Proto"] = "https" })
end

function request()
  -- wrk calls request() once after init() to inspect it, and never sends that one.
  if not probed then
    probed = true
    return filler()
  end
  sent = sent + 1
  local attendee = paths[math.floor((sent + 1) / 2)]
  if attendee == nil then return filler() end
  if sent % 2 == 1 then
    return wrk.format("GET", attendee.search, headers)
  end
  return wrk.format("POST", attendee.check_in, headers, body_prefix .. attendee.search:gsub("[?&=]", {
    ["?"] = "%3F", ["&"] = "%26", ["="] = "%3D" }))
end

function response(status, headers, body)
  if status == 405 then return end -- the fillers
  answered = answered + 1
  if status == 200 then
    searches = searches + 1
  elseif status == 302 then
    checkins = checkins + 1
  else
    statuses[status] = (statuses[status] or 0) + 1
    local text = {}
    for code, count in pairs(statuses) do text[#text + 1] = string.format('"%d": %d', code, count) end
    other = table.concat(text, ", ")
  end
  if answered == 2 * expected then
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local thread = threads[1]
  io.write(string.format(
    'BENCH {"searches": %d, "checkins": %d, "other": {%s}, "p50_us": %d, "p99_us": %d}\n',
    thread:get("searches"), thread:get("checkins"), thread:get("other"),
    latency:percentile(50.0), latency:percentile(99.0)))
end
