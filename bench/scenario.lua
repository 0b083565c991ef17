-- wrk script for the scenarios the shared harness's fixed requests cannot express: each
-- request may depend on an earlier answer (a rotated refresh token, a login's cookies) or
-- consume a one-time input (an authorization code). Like ../shared/bench/lib/wrk.lua, it
-- counts every unexpected answer and prints one RESULT line in the same format.
--
-- WRK_SCENARIO selects the requests:
--   fixed     the same request each time: WRK_METHOD (GET), WRK_BODY (a form), WRK_AUTH
--             (Authorization) and WRK_IF_NONE_MATCH, each optional
--   mint      GET the URL (an authorization request) with WRK_COOKIE (a signed-in browser);
--             writes the code of each redirect to WRK_OUT
--   exchange  POST grant_type=authorization_code for each code in WRK_IN (WRK_AUTH: the
--             client's Basic credentials); writes each refresh token to WRK_OUT when set
--   refresh   POST grant_type=refresh_token, rotating every token in WRK_IN: each answer's
--             new token goes back into the pool, so a family is used one request at a time
--   login     a whole browser login per round: GET the authorization URL (the login page),
--             POST /login with WRK_USERNAME and WRK_PASSWORD, then exchange the code at
--             /token; run it with as many threads as connections (one state machine each)
-- WRK_EXPECT: the status that counts as success for `fixed` (200; 304 for revalidation).
-- WRK_REDIRECT_URI and WRK_CODE_VERIFIER: the client's registered URI and the PKCE verifier
-- behind the authorization URL's code_challenge.

local scenario = os.getenv("WRK_SCENARIO") or "fixed"
local auth = os.getenv("WRK_AUTH") or ""
local expect = tonumber(os.getenv("WRK_EXPECT") or "200")
local redirect_uri = os.getenv("WRK_REDIRECT_URI") or ""
local code_verifier = os.getenv("WRK_CODE_VERIFIER") or ""
local fixed_method = os.getenv("WRK_METHOD") or ""
local fixed_body = os.getenv("WRK_BODY") or ""
local if_none_match = os.getenv("WRK_IF_NONE_MATCH") or ""

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- Per-thread globals, read back in done() through thread:get().
bad = 0
first_bad = ""
logins = 0

local function fail(status, body)
  bad = bad + 1
  if first_bad == "" then
    first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 120)
  end
end

local function form_encode(value)
  return (string.gsub(value, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function header(headers, name)
  for key, value in pairs(headers) do
    if string.lower(key) == name then return value end
  end
  return nil
end

-- This thread's share of the lines of WRK_IN: every thread_count-th, from its id.
local function read_share(path, id, count)
  local lines, n = {}, 0
  for line in io.lines(path) do
    if n % count == id and line ~= "" then table.insert(lines, line) end
    n = n + 1
  end
  return lines
end

-- A queue: pool[first .. last] are the inputs not yet used.
local pool = {}
local first, last = 1, 0
local out = nil
local path = ""
-- login state: 0 ask for the login page, 1 post the form, 2 exchange the code
local step = 0
local csrf_cookie, csrf_token, request_id, code = "", "", "", ""

function init(args)
  local input = os.getenv("WRK_IN")
  if input and input ~= "" then
    pool = read_share(input, id, tonumber(os.getenv("WRK_THREADS") or "1"))
    last = #pool
  end
  local output = os.getenv("WRK_OUT")
  if output and output ~= "" then
    out = io.open(output .. "." .. id, "w")
    -- wrk never closes a thread's state, so nothing may wait in a buffer.
    out:setvbuf("line")
  end
  path = wrk.path
end

local function token_request(body)
  return wrk.format("POST", "/token", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }, body)
end

-- The next one-time input; when none is left the thread stops (a seeding run ends early).
local function take()
  local value = pool[first]
  pool[first] = nil
  first = first + 1
  if not value then
    wrk.thread:stop()
    return "exhausted"
  end
  return value
end

function request()
  if scenario == "fixed" then
    local headers = { ["Accept"] = "application/json" }
    if auth ~= "" then headers["Authorization"] = auth end
    if if_none_match ~= "" then headers["If-None-Match"] = if_none_match end
    if fixed_body == "" then return wrk.format(fixed_method ~= "" and fixed_method or "GET", path, headers) end
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format(fixed_method ~= "" and fixed_method or "POST", path, headers, fixed_body)
  elseif scenario == "mint" then
    return wrk.format("GET", path, { ["Cookie"] = os.getenv("WRK_COOKIE") or "" })
  elseif scenario == "exchange" then
    return token_request("grant_type=authorization_code&code=" .. form_encode(take())
      .. "&redirect_uri=" .. form_encode(redirect_uri) .. "&code_verifier=" .. form_encode(code_verifier))
  elseif scenario == "refresh" then
    return token_request("grant_type=refresh_token&refresh_token=" .. form_encode(take()))
  elseif scenario == "login" then
    if step == 0 then
      return wrk.format("GET", path, { ["Sec-Fetch-Site"] = "none" })
    elseif step == 1 then
      return wrk.format("POST", "/login", {
        ["Cookie"] = csrf_cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Sec-Fetch-Site"] = "same-origin",
      }, "csrf_token=" .. form_encode(csrf_token) .. "&request_id=" .. form_encode(request_id)
        .. "&username=" .. form_encode(os.getenv("WRK_USERNAME") or "")
        .. "&password=" .. form_encode(os.getenv("WRK_PASSWORD") or ""))
    else
      return token_request("grant_type=authorization_code&code=" .. form_encode(code)
        .. "&redirect_uri=" .. form_encode(redirect_uri) .. "&code_verifier=" .. form_encode(code_verifier))
    end
  end
end

-- The code of a redirect back to the client (302 from /authorize, 303 after a form).
local function code_of(status, headers)
  local location = header(headers, "location")
  if (status ~= 302 and status ~= 303) or not location then return nil end
  return string.match(location, "[?&]code=([^&]+)")
end

local function login_response(status, headers, body)
  if step == 0 then
    local cookie = header(headers, "set-cookie") or ""
    csrf_cookie = string.match(cookie, "^([^;]+)") or ""
    csrf_token = string.match(body or "", 'name="csrf_token" value="([^"]+)"') or ""
    request_id = string.match(body or "", 'name="request_id" value="([^"]+)"') or ""
    if status ~= 200 or csrf_token == "" then return fail(status, body) end
    step = 1
  elseif step == 1 then
    code = code_of(status, headers)
    if not code then
      step = 0
      return fail(status, body)
    end
    step = 2
  else
    step = 0
    if status ~= 200 then return fail(status, body) end
    logins = logins + 1
  end
end

function response(status, headers, body)
  if scenario == "login" then return login_response(status, headers, body) end
  if scenario == "mint" then
    local minted = code_of(status, headers)
    if not minted then return fail(status, body) end
    out:write(minted, "\n")
    return
  end
  local expected = (scenario == "fixed") and expect or 200
  if status ~= expected then return fail(status, body) end
  if scenario == "fixed" then return end
  local rotated = string.match(body or "", '"refresh_token":"([^"]+)"')
  if scenario == "refresh" then
    if rotated then
      last = last + 1
      pool[last] = rotated
    else
      fail(status, body)
    end
  elseif out and rotated then
    out:write(rotated, "\n")
  end
end

function done(summary, latency, requests)
  local non2xx, completed, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("bad") or 0)
    completed = completed + (thread:get("logins") or 0)
    if sample == "" then sample = thread:get("first_bad") or "" end
  end
  local e = summary.errors
  local sockerr = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  sample = string.gsub(sample, "[\t\r\n]", " ")
  -- A login is three requests; its rate is what the row reports.
  local count = (scenario == "login") and completed or summary.requests
  io.write(string.format(
    "RESULT\t%d\t%.3f\t%.1f\t%.3f\t%.3f\t%d\t%d\t%s\n",
    count, seconds, count / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    non2xx, sockerr, sample))
end
