-- Argo CD health check for casdoor.org/WeComSyncer. Paste into argocd-cm as
-- resource.customizations.health.casdoor.org_WeComSyncer (see docs/operating.md).
-- It reads the kstatus conditions the operator writes, in kstatus's order:
--   Progressing  no status yet, status of an older generation, or Reconciling=True
--   Degraded     Stalled=True (a person must act), or Ready=False for any cause
--                but suspension (a failed sync or connection test, a missing Secret)
--   Suspended    spec.suspend, with the connection test passing
--   Healthy      Ready=True for the current generation
-- Written for Lua 5.1 (Argo CD's gopher-lua) and tested with Lua 5.4.
local hs = {}

local function condition(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message or stalled.reason or "Stalled"
  return hs
end

local ready = condition(status.conditions, "Ready")
local suspended = obj.spec ~= nil and obj.spec.suspend == true
if suspended and (ready == nil or ready.status ~= "False" or ready.reason == "Suspended") then
  hs.status = "Suspended"
  hs.message = (ready and ready.message) or "Suspended: spec.suspend is true"
  return hs
end

local reconciling = condition(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = reconciling.message or "Sync in progress"
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end

if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = ready.message or ready.reason or "Not ready"
  return hs
end

hs.status = "Progressing"
hs.message = (ready and ready.message) or "Waiting for the first sync"
return hs
