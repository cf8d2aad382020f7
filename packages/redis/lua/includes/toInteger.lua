--[[
  toInteger(value, minimum): the ARGV string as an integer when it is one, lies in [minimum, 2^53],
  else nil. Scripts answer -1 (bad arguments) on nil instead of computing with a garbage number.
]]
local function toInteger(value, minimum)
  local number = tonumber(value)
  if number == nil or number ~= math.floor(number) or number < minimum or number > 9007199254740992 then
    return nil
  end
  return number
end
