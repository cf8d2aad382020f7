--[[
  parseLock(value): a branch lock's value as (token, lease until or nil, lease holder or nil); (false) when the
  key is absent. The value is "<token>" or "<token> <lease until, epoch ms> <try id>"; tokens hold no spaces.
]]
local function parseLock(value)
  if value == false or value == nil then
    return false, nil, nil
  end
  local token, untilText, holder = string.match(value, "^(%S+) (%d+) (%S+)$")
  if token == nil then
    return value, nil, nil
  end
  return token, tonumber(untilText), holder
end
