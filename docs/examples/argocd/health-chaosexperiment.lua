-- Argo CD health check for chaos.faultline.dev/ChaosExperiment. In order:
--   Ready condition False (invalid spec, e.g. a bad schedule)        -> Degraded
--   status older than the spec (observedGeneration < generation)     -> Progressing
--   the last run Queued or Running                                    -> Progressing
--   spec.stop or spec.suspend set                                     -> Suspended
--   the last run: Pass -> Healthy, Fail/Error/Timeout -> Degraded, Stopped -> Suspended
--   no run yet (a schedule waiting for its first tick)                -> Healthy
local hs = {}

local spec = obj.spec or {}
local s = obj.status
if s == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator"
  return hs
end

if type(s.conditions) == "table" then
  for _, c in ipairs(s.conditions) do
    if c.type == "Ready" and c.status == "False" then
      hs.status = "Degraded"
      hs.message = (c.reason or "NotReady") .. ": " .. (c.message or "")
      return hs
    end
  end
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (s.observedGeneration == nil or s.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local last = s.lastRun
local summary = ""
if last ~= nil and last.result ~= nil then
  summary = "last run " .. last.result .. ": " .. tostring(s.phase or "Queued")
  if last.verdict ~= nil then
    summary = summary .. ", verdict " .. last.verdict
  end
  if type(last.score) == "number" then
    summary = summary .. ", score " .. tostring(math.floor(last.score * 10 + 0.5) / 10)
  end
end

local phase = s.phase
if phase == "Queued" or phase == "Running" then
  hs.status = "Progressing"
  hs.message = summary
  return hs
end

if spec.stop == true then
  hs.status = "Suspended"
  hs.message = "spec.stop is set: no run starts until it is cleared"
  if summary ~= "" then
    hs.message = hs.message .. "; " .. summary
  end
  return hs
end
if spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "schedule suspended"
  if summary ~= "" then
    hs.message = hs.message .. "; " .. summary
  end
  return hs
end

if phase == nil or last == nil then
  hs.status = "Healthy"
  hs.message = "no run yet"
  if s.nextScheduleTime ~= nil then
    hs.message = hs.message .. "; next run at " .. s.nextScheduleTime
  end
  return hs
end

local verdict = last.verdict or "Awaited"
if phase == "Completed" or phase == "CompletedWithError" then
  if verdict == "Pass" then
    hs.status = "Healthy"
  elseif verdict == "Fail" then
    hs.status = "Degraded"
  else
    hs.status = "Progressing"
  end
elseif phase == "Error" or phase == "Timeout" then
  hs.status = "Degraded"
elseif phase == "Stopped" then
  hs.status = "Suspended"
else
  hs.status = "Unknown"
end
hs.message = summary
if s.nextScheduleTime ~= nil then
  hs.message = hs.message .. "; next run at " .. s.nextScheduleTime
end
return hs
