-- Run by nvim_test.go (TestHealthNoModel): :checkhealth lore's output.
local T = _G.lore_test
local out = {}
local ok, err = xpcall(function()
  vim.cmd('checkhealth lore')
  out.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
end, debug.traceback)
if not ok then
  out.error = tostring(err)
end
local f = assert(io.open(T.out, 'w'))
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
