-- Argo CD health check for chaos.faultline.dev/ChaosResult: one run of a ChaosExperiment.
-- Queued/Running (or no phase yet) -> Progressing; an ended run with verdict Pass -> Healthy,
-- Fail -> Degraded; Error/Timeout -> Degraded; Stopped -> Suspended. The message carries the
-- verdict, the score and the operator's status.message.
local hs = {}

local function score_text(s)
  if type(s.resilienceScore) ~= "number" then
    return ""
  end
  return ", score " .. tostring(math.floor(s.resilienceScore * 10 + 0.5) / 10)
end

local function describe(s, prefix)
  local text = prefix .. score_text(s)
  if type(s.message) == "string" and s.message ~= "" then
    text = text .. ": " .. s.message
  end
  return text
end

local s = obj.status
if s == nil or s.phase == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to start the run"
  return hs
end

local phase = s.phase
local verdict = s.verdict or "Awaited"

if phase == "Queued" then
  hs.status = "Progressing"
  hs.message = describe(s, "Queued: waiting for the fault pod to start")
elseif phase == "Running" then
  hs.status = "Progressing"
  hs.message = describe(s, "Running")
elseif phase == "Completed" or phase == "CompletedWithError" then
  if verdict == "Pass" then
    hs.status = "Healthy"
  elseif verdict == "Fail" then
    hs.status = "Degraded"
  else
    -- The phase and the verdict are written together; Awaited here means a write in flight.
    hs.status = "Progressing"
  end
  hs.message = describe(s, phase .. ", verdict " .. verdict)
elseif phase == "Error" or phase == "Timeout" then
  hs.status = "Degraded"
  hs.message = describe(s, phase .. ", verdict " .. verdict)
elseif phase == "Stopped" then
  hs.status = "Suspended"
  hs.message = describe(s, "Stopped")
else
  hs.status = "Unknown"
  hs.message = "unknown phase " .. tostring(phase)
end
return hs
